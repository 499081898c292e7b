"""Risk-based alerting: findings add risk to their entities, risk decays, thresholds open incidents.

Each finding is a *risk event* of ``risk_score`` points on every entity it names (user,
host, IP, domain, process hash); a finding that names no entity is its own entity. Points
decay: an event's points halve for every ``half_life`` elapsed since it happened. A risk
combines events with diminishing returns, so that many low-value alerts do not add up to
one grave one:

- repeats of one analytic in a group count ``repeat_factor`` less each time (x1, x0.25 ...);
- per analytic the decayed points are summed; analytics are ranked, strongest first, and
  the n-th counts ``stack_factor ** n`` (x1, x0.5, x0.25 ...).

    risk(t) = sum_n stack_factor**n * A_n(t)
    A_n(t)  = sum_i points_i * 0.5 ** ((t - t_i) / half_life)   (events of the n-th analytic)

An entity whose risk reaches ``threshold`` opens an incident (or, if its group already has
one, extends it). The incident's score is the same combination over all its findings (each
counted once, not once per entity) at its peak, plus a bonus for kill-chain breadth,
saturated smoothly below 100: its parts (one per analytic, breadth, saturation) are whole
numbers that add up exactly to the score. As an incident holds every finding of its
entities, its score is never below the threshold that opened it.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from garrison.core.findings import Finding
from garrison.triage.config import RiskConfig

SATURATION_KNEE = 80.0
SATURATION_SCALE = 40.0


def decay(points: float, elapsed_ms: int, half_life_ms: int) -> float:
    """``points`` after ``elapsed_ms``: halved every ``half_life_ms`` (never grows back).

    >>> decay(80, 3_600_000, 3_600_000), decay(80, -5, 1000)
    (40.0, 80.0)
    """
    if elapsed_ms <= 0:
        return float(points)
    return float(points) * 0.5 ** (elapsed_ms / max(1, half_life_ms))


@dataclass(slots=True)
class Crossing:
    """An entity's risk reached the threshold: which entity, when, at what risk."""

    entity: str
    time: int
    risk: float
    finding_uid: str

    def to_json(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "time": self.time,
            "risk": round(self.risk, 1),
            "finding_uid": self.finding_uid,
        }


class StackedRisk:
    """Decayed risk of a stream of (time, analytic, points) events, arriving in time order.

    Sums are kept in units of a reference time (``points * 2 ** ((t - ref) / half_life)``)
    so that decaying every analytic at once costs nothing; the reference moves forward
    before the factors could overflow.
    """

    __slots__ = ("half_life_ms", "peak", "ref", "sums", "top", "weights")

    def __init__(self, half_life_ms: int, stack: float, top: int = 12) -> None:
        self.half_life_ms = max(1, half_life_ms)
        self.top = top
        self.weights = [stack**i for i in range(top)]
        self.sums: dict[str, float] = {}
        self.ref: int | None = None
        self.peak = 0.0

    def add(self, time: int, label: str, points: float) -> float:
        """Add an event; returns the risk right after it."""
        if self.ref is None:
            self.ref = time
        exponent = (time - self.ref) / self.half_life_ms
        if exponent > 60:
            factor = 0.5**exponent
            for key in self.sums:
                self.sums[key] *= factor
            self.ref, exponent = time, 0.0
        self.sums[label] = self.sums.get(label, 0.0) + points * 2.0**exponent
        value = self.value_at(time)
        self.peak = max(self.peak, value)
        return value

    def value_at(self, time: int) -> float:
        if self.ref is None:
            return 0.0
        values = self.sums.values()
        ranked = (
            heapq.nlargest(self.top, values)
            if len(values) > self.top
            else sorted(values, reverse=True)
        )
        stacked = sum(v * w for v, w in zip(ranked, self.weights, strict=False))
        return stacked * 0.5 ** ((time - self.ref) / self.half_life_ms)


def contributions(members: Sequence[Finding], cfg: RiskConfig) -> list[tuple[Finding, float]]:
    """Findings in time order with their points after the repeat discount."""
    seen: dict[str, int] = defaultdict(int)
    out: list[tuple[Finding, float]] = []
    for f in sorted(members, key=lambda f: (f.time, f.uid)):
        k = seen[f.analytic_uid]
        seen[f.analytic_uid] = k + 1
        out.append((f, f.risk_score * cfg.repeat_factor**k))
    return out


def first_crossing(members: Sequence[Finding], cfg: RiskConfig) -> Crossing | None:
    """The first entity to reach the threshold, in time order (stops there)."""
    risks: dict[str, StackedRisk] = {}
    for f, points in contributions(members, cfg):
        keys = [e.key() for e in f.entities] or [f"finding:{f.uid}"]
        for key in dict.fromkeys(keys):
            state = risks.get(key)
            if state is None:
                state = risks[key] = StackedRisk(cfg.half_life_ms, cfg.stack_factor)
            value = state.add(f.time, _label(f), points)
            if value >= cfg.threshold:
                return Crossing(key, f.time, value, f.uid)
    return None


def entity_risks(
    members: Sequence[Finding], cfg: RiskConfig
) -> tuple[dict[str, StackedRisk], Crossing | None]:
    """Every entity's risk over the group, and the first threshold crossing (if any)."""
    risks: dict[str, StackedRisk] = {}
    first: Crossing | None = None
    for f, points in contributions(members, cfg):
        keys = [e.key() for e in f.entities] or [f"finding:{f.uid}"]
        for key in dict.fromkeys(keys):
            state = risks.get(key)
            if state is None:
                state = risks[key] = StackedRisk(cfg.half_life_ms, cfg.stack_factor)
            value = state.add(f.time, _label(f), points)
            if first is None and value >= cfg.threshold:
                first = Crossing(key, f.time, value, f.uid)
    return risks, first


@dataclass(slots=True)
class IncidentRisk:
    score: int
    parts: dict[str, float]
    peak_time: int
    peak_risk: float
    #: (finding, decayed points at the peak), largest first.
    top_findings: list[tuple[Finding, float]] = field(default_factory=list)


def _label(f: Finding) -> str:
    return f"finding:{f.analytic_name or f.analytic_uid}"


def saturate(x: float) -> float:
    """Linear up to 80, then approaching 100 smoothly, so large risks stay ordered.

    >>> round(saturate(50)), round(saturate(100)), round(saturate(200))
    (50, 87, 100)
    """
    if x <= SATURATION_KNEE:
        return x
    return SATURATION_KNEE + (100 - SATURATION_KNEE) * (
        1 - math.exp(-(x - SATURATION_KNEE) / SATURATION_SCALE)
    )


def incident_risk(members: Sequence[Finding], tactics: int, cfg: RiskConfig) -> IncidentRisk:
    """Peak group risk + breadth, saturated below 100, as whole-number parts summing exactly.

    At the peak, each analytic's decayed points are summed; analytics are ranked and the
    n-th counts ``stack_factor ** n`` (the strongest in full, the next half ...): a heap of
    low-value alerts cannot outrank one grave one plus its context.
    """
    contrib = contributions(members, cfg)
    total_risk = StackedRisk(cfg.half_life_ms, cfg.stack_factor, top=max(12, cfg.top_parts))
    peak, peak_at = -1.0, 0
    for i, (f, points) in enumerate(contrib):
        value = total_risk.add(f.time, _label(f), points)
        if value > peak:
            peak, peak_at = value, i
    peak_time = contrib[peak_at][0].time if contrib else 0
    at_peak = [
        (f, decay(p, peak_time - f.time, cfg.half_life_ms)) for f, p in contrib[: peak_at + 1]
    ]
    by_label: dict[str, float] = defaultdict(float)
    for f, value in at_peak:
        by_label[_label(f)] += value
    ranked = sorted(by_label.items(), key=lambda kv: (-kv[1], kv[0]))
    weight = {label: cfg.stack_factor**n for n, (label, _) in enumerate(ranked)}
    weighted = [(f, v * weight[_label(f)]) for f, v in at_peak]
    parts: dict[str, float] = {}
    for label, value in ranked[: cfg.top_parts]:
        if round(value * weight[label]):
            parts[label] = float(round(value * weight[label]))
    rest = ranked[cfg.top_parts :]
    rest_value = round(sum(v * weight[k] for k, v in rest))
    if rest_value:
        parts[f"other analytics ({len(rest)})"] = float(rest_value)
    breadth = round(cfg.breadth_per_tactic * max(0, tactics - 1))
    if breadth:
        parts["kill_chain_breadth"] = float(breadth)
    total = sum(parts.values())
    capped = round(saturate(total))
    strongest = max((f.risk_score for f, _ in contrib), default=0)
    ceiling = strongest + cfg.corroboration_max
    if capped > ceiling:
        parts["corroboration_cap"] = float(ceiling - total)
    elif capped != total:
        parts["saturation"] = float(capped - total)
    top = sorted(weighted, key=lambda fv: (-fv[1], fv[0].time))
    return IncidentRisk(
        score=int(sum(parts.values())),
        parts=parts,
        peak_time=peak_time,
        peak_risk=max(peak, 0.0),
        top_findings=top,
    )
