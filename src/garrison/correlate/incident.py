"""Build an ``Incident`` from its findings: score with parts, story, enrichment, explanation.

The incident keeps everything an analyst needs without re-reading the findings: the union
of its findings' enrichment (assets with their criticality, identities, intel), its
kill-chain stages and timeline, and an explanation with

- ``top_findings``: the findings that contributed most at the risk peak, with their points;
- ``factors``: the same score broken down by *why* (severity, asset criticality, intel ...),
  apportioned from each finding's own parts; whole numbers summing exactly to the score;
- ``opened_by``: the entity whose risk crossed the threshold, when, at what risk.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from garrison.core.attack import tactic_rank
from garrison.core.entities import Entity
from garrison.core.findings import Finding
from garrison.core.incidents import Incident
from garrison.correlate.timeline import UNMAPPED, stages, story, timeline
from garrison.triage.config import RiskConfig
from garrison.triage.enrich.enricher import enrichment_of
from garrison.triage.enrich.inventory import CRITICALITY_RANK
from garrison.triage.noise import last_seen
from garrison.triage.risk import Crossing, IncidentRisk, first_crossing, incident_risk

_WHO_KINDS = {"host": 0, "user": 1, "ip": 2, "domain": 3, "hash": 4, "process": 5}


def merge_enrichment(members: Sequence[Finding]) -> dict[str, Any]:
    """Union of the findings' enrichment blocks, each asset/identity/indicator once."""
    assets: dict[str, dict[str, Any]] = {}
    identities: dict[str, dict[str, Any]] = {}
    intel: dict[str, dict[str, Any]] = {}
    for f in members:
        block = enrichment_of(f)
        for a in block.get("assets", []):
            if isinstance(a, dict):
                assets.setdefault(str(a.get("name")), a)
        for i in block.get("identities", []):
            if isinstance(i, dict):
                identities.setdefault(str(i.get("name")), i)
        for x in block.get("intel", []):
            if isinstance(x, dict):
                intel.setdefault(str(x.get("indicator")), x)
    crit = max(
        (str(enrichment_of(f).get("criticality", "unknown")) for f in members),
        key=lambda c: CRITICALITY_RANK.get(c, 0),
        default="unknown",
    )
    out: dict[str, Any] = {"criticality": crit}
    if assets:
        out["assets"] = sorted(
            assets.values(), key=lambda a: -CRITICALITY_RANK.get(str(a.get("criticality")), 0)
        )
    if identities:
        out["identities"] = list(identities.values())
    if intel:
        out["intel"] = list(intel.values())
    return out


def apportion(values: dict[str, float], total: int) -> dict[str, float]:
    """Whole numbers near ``values`` that sum exactly to ``total`` (largest remainder).

    >>> apportion({"a": 1.6, "b": 1.4}, 3)
    {'a': 2.0, 'b': 1.0}
    """
    if not values:
        return {}
    floors = {k: math.floor(v) for k, v in values.items()}
    gap = total - sum(floors.values())
    order = sorted(values, key=lambda k: (-(values[k] - floors[k]), k))
    step = 1 if gap > 0 else -1
    if gap < 0:
        order.reverse()
    i = 0
    while gap != 0:
        floors[order[i % len(order)]] += step
        gap -= step
        i += 1
    return {k: float(v) for k, v in floors.items() if v}


def _factors(risk: IncidentRisk, score: int) -> dict[str, float]:
    raw: dict[str, float] = defaultdict(float)
    for f, value in risk.top_findings:
        if f.risk_score <= 0:
            continue
        for name, part in f.risk_parts.items():
            raw[name] += value * part / f.risk_score
    for name in ("kill_chain_breadth", "saturation", "corroboration_cap"):
        if name in risk.parts:
            raw[name] += risk.parts[name]
    return apportion(dict(raw), score)


def _entities(members: Sequence[Finding]) -> list[Entity]:
    """Hosts and users first (what an analyst names an incident by), then by frequency."""
    freq: Counter[Entity] = Counter(e for f in members for e in set(f.entities))
    return sorted(
        freq,
        key=lambda e: (_WHO_KINDS.get(e.kind, 9) > 1, -freq[e], _WHO_KINDS.get(e.kind, 9), e.value),
    )


def _who(entities: list[Entity]) -> str:
    named = [e for e in entities if e.kind != "hash"] or entities
    return ", ".join(e.value[:40] for e in named[:3]) or "unattributed"


def _title(top: Finding, n: int, entities: list[Entity], tactics: list[str]) -> str:
    who = _who(entities)
    chain = " → ".join(tactics[:4]) or "no ATT&CK mapping"
    if n == 1:
        return f"{top.title} on {who}"
    return f"{top.title} (+{n - 1} related) on {who}: {chain}"


def build_incident(
    members: Sequence[Finding],
    cfg: RiskConfig,
    uid: str = "",
    opened: Crossing | None = None,
) -> Incident:
    """The incident over ``members`` (all active findings of one group)."""
    if opened is None:
        opened = first_crossing(members, cfg)
    tactics = sorted(
        {a.tactic_name for f in members for a in f.attacks if a.tactic_name}, key=tactic_rank
    )
    risk = incident_risk(members, len(tactics), cfg)
    contribution = {f.uid: v for f, v in risk.top_findings}
    top = risk.top_findings[0][0] if risk.top_findings else max(members, key=lambda f: f.risk_score)
    entities = _entities(members)
    stage_list = stages(members)
    who = _who(entities)
    explanation: dict[str, Any] = {
        "peak_risk": round(risk.peak_risk, 1),
        "peak_time": risk.peak_time,
        "threshold": cfg.threshold,
        "half_life_ms": cfg.half_life_ms,
        "top_findings": [
            {
                "uid": f.uid,
                "title": f.title,
                "analytic_uid": f.analytic_uid,
                "risk_score": f.risk_score,
                "contribution": round(v, 1),
            }
            for f, v in risk.top_findings[:5]
        ],
        "factors": _factors(risk, risk.score),
    }
    if opened is not None:
        explanation["opened_by"] = opened.to_json()
    ordered = sorted(members, key=lambda f: (f.time, f.uid))
    return Incident(
        title=_title(
            top,
            len(members),
            entities,
            [s["tactic"] for s in stage_list if s["tactic"] != UNMAPPED],
        ),
        finding_uids=[f.uid for f in ordered],
        first_time=ordered[0].time,
        last_time=max(last_seen(f) for f in members),
        risk_score=risk.score,
        severity_id=max(f.severity_id for f in members),
        entities=entities,
        tactics=tactics,
        techniques=sorted({a.technique_uid for f in members for a in f.attacks if a.technique_uid}),
        timeline=timeline(members, contribution),
        risk_parts=risk.parts,
        uid=uid,
        opened_at=opened.time if opened else ordered[0].time,
        stages=stage_list,
        explanation=explanation,
        enrichment=merge_enrichment(members),
        raw_findings=sum(f.count for f in members),
        description=story(stage_list, who),
    )
