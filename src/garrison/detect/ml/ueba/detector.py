"""``ml.ueba``: identity analytics on authentication events.

``observe`` turns each event into a compact ``AuthEvent`` (or skips it); ``finish`` sorts
the run's attempts by time -- so clock skew and out-of-order files do not matter -- runs
the volume analytics (``volume``) against the stored baseline, then the first-seen /
unusual-hour pass (``novelty``), which also learns, and writes the baseline back to the
state database in one transaction. Ingest batches are remembered by their content
fingerprint: a file hunted twice is scored twice but learnt once. At most ``max_events``
attempts are held per run; the rest are counted and dropped (stated in ``stats``).

Each analytic rates its hit with a tail probability under a stated model (``common``). A
finding's confidence is that figure mapped to P(malicious) by the label-fitted calibration
shipped in ``models/ueba.calibration.json`` (Platt scaling with a per-analytic offset, see
``detect.ml.calibration``; option ``calibration``: a path, or "none"); the raw figure stays
in the explanation as ``tail_confidence`` with its basis.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from garrison.core.attack import attack_of
from garrison.core.entities import Entity, normalize_entity
from garrison.core.events import Event
from garrison.core.findings import Evidence, Finding
from garrison.core.timeutil import now_ms
from garrison.detect.base import Detector, DetectorContext
from garrison.detect.ml.calibration import Calibration, load_calibration
from garrison.detect.ml.ueba.authevents import FAILURE, AuthEvent, auth_event_of
from garrison.detect.ml.ueba.baseline import Baseline
from garrison.detect.ml.ueba.common import HOUR_MS, MODEL_VERSION, Hit, UebaConfig
from garrison.detect.ml.ueba.novelty import NoveltyPass
from garrison.detect.ml.ueba.volume import (
    bruteforce_and_spraying,
    credential_stuffing,
    distributed_bruteforce,
    fanout,
    success_after_failures,
)
from garrison.detect.options import options_of
from garrison.store.state import StateDB

_NAMES = {
    "bruteforce": "Brute force (password guessing)",
    "spraying": "Password spraying",
    "bruteforce-account": "Distributed brute force on one account",
    "stuffing": "Credential stuffing",
    "success-after-failures": "Successful logon after failures",
    "fanout": "Lateral-movement fan-out",
    "first-seen": "First-seen source or host for a user",
    "unusual-hour": "Logon at an unusual hour",
}


class UebaDetector(Detector):
    id = "ml.ueba"
    name = "Identity analytics (UEBA)"

    def __init__(self, config: UebaConfig | None = None, state: StateDB | None = None) -> None:
        self.config = config or UebaConfig()
        self.baseline = Baseline(state)
        self.events: list[AuthEvent] = []
        self.dropped = 0
        self.counts: dict[str, int] = {}
        self.novelty_stats: dict[str, int] = {}
        self.calibration: Calibration | None
        self.calibration, self.calibration_note = load_calibration(
            "ueba", str(self.config.calibration)
        )

    def observe(self, events: Sequence[Event]) -> list[Finding]:
        for event in events:
            found = auth_event_of(event)
            if found is None:
                continue
            if len(self.events) >= self.config.max_events:
                self.dropped += 1
                continue
            self.events.append(found)
        return []

    def finish(self) -> list[Finding]:
        events = sorted(self.events, key=lambda e: (e.time, e.source_path, e.record_id))
        self.events = []
        if not events:
            return []
        cfg, base = self.config, self.baseline
        hits: list[Hit] = []
        hits += bruteforce_and_spraying(events, cfg, base)
        hits += distributed_bruteforce(events, cfg, base)
        hits += credential_stuffing(events, cfg)
        hits += success_after_failures(events, cfg, base)
        fan_hits, busiest = fanout(events, cfg, base)
        hits += fan_hits
        batches = {e.batch for e in events if e.batch}
        learnt = frozenset(base.learnt_batches(batches))
        novelty = NoveltyPass(cfg, base)
        hits += novelty.run(events, learnt)
        self.novelty_stats = {
            "warm_checks": novelty.warm_checks,
            "cold_skips": novelty.cold_skips,
            "popular_host_skips": novelty.popular_skips,
        }
        self._learn_activity([e for e in events if e.batch not in learnt], busiest)
        base.save()
        base.remember_batches(batches - learnt, now_ms())
        findings = self._findings(hits)
        for f in findings:
            key = f.analytic_uid
            self.counts[key] = self.counts.get(key, 0) + 1
        return findings

    def _learn_activity(self, events: Sequence[AuthEvent], busiest: dict[str, int]) -> None:
        user_hours: dict[str, set[int]] = defaultdict(set)
        source_hours: dict[str, set[int]] = defaultdict(set)
        for e in events:
            user_hours[e.user].add(e.time // HOUR_MS)
            if e.source:
                source_hours[e.source].add(e.time // HOUR_MS)
        for user, hours in user_hours.items():
            self.baseline.user(user).active_hours += len(hours)
        for src, hours in source_hours.items():
            self.baseline.source(src).active_hours += len(hours)
        for actor, count in busiest.items():
            kind, _, name = actor.partition(":")
            profile = self.baseline.user(name) if kind == "user" else self.baseline.source(name)
            profile.max_hosts_per_hour = max(profile.max_hosts_per_hour, count)

    def _findings(self, hits: list[Hit]) -> list[Finding]:
        by_analytic: dict[str, list[Hit]] = defaultdict(list)
        for hit in hits:
            by_analytic[hit.analytic].append(hit)
        out: list[Finding] = []
        for _, group in sorted(by_analytic.items()):
            group.sort(key=lambda h: (-h.confidence, h.time))
            kept = group[: self.config.max_findings_per_analytic]
            out.extend(_finding(h, self.calibration, self.calibration_note) for h in kept)
        out.sort(key=lambda f: f.time)
        return out

    def stats(self) -> dict[str, Any]:
        return {
            "calibration": self.calibration.name if self.calibration else self.calibration_note,
            "auth_events_dropped": self.dropped,
            "findings": dict(self.counts),
            "baseline_users": len(self.baseline.users),
            "baseline_span_hours": round(self.baseline.span_ms() / HOUR_MS, 1),
            **self.novelty_stats,
        }


#: What each analytic's tail confidence is, for the analytics whose hits do not say it.
_TAIL_BASIS = {
    "bruteforce": "1 - Poisson P(>= failures | the source's baseline failure rate)",
    "spraying": "1 - Poisson P(>= failures | the source's baseline failure rate)",
    "bruteforce-account": "1 - Poisson P(>= failures | the account's baseline failure rate)",
    "success-after-failures": "1 - Poisson P(>= failures | the account's baseline failure rate)",
}


def calibrated(
    hit: Hit, calibration: Calibration | None, note: str = ""
) -> tuple[float, dict[str, Any]]:
    """The finding's confidence and the explanation entries that say what it is."""
    basis = str(
        hit.explanation.get("confidence_basis", _TAIL_BASIS.get(hit.analytic, "tail probability"))
    )
    raw = {
        "tail_confidence": round(hit.confidence, 6),
        "tail_confidence_basis": basis + ": how unusual, not a probability of an attack",
    }
    if calibration is None:
        return hit.confidence, {**raw, "confidence_basis": f"{note or 'uncalibrated'}; {basis}"}
    p = calibration.probability(hit.confidence, hit.analytic)
    return p, {
        **raw,
        "confidence_basis": "P(malicious | analytic, tail confidence), Platt-calibrated on "
        "labelled findings (OpenSSH, LANL red team, Mordor; see calibration)",
        "calibration": calibration.summary(),
    }


def _finding(hit: Hit, calibration: Calibration | None = None, note: str = "") -> Finding:
    evidences = [
        Evidence(e.source_path, e.record_id, e.uid, e.time, summary=_summary(e)) for e in hit.events
    ]
    entities: list[Entity] = []
    candidates = (
        [normalize_entity("user", u) for u in hit.users]
        + [_source_entity(s) for s in hit.sources]
        + [normalize_entity("host", h) for h in hit.hosts]
    )
    for entity in candidates:
        if entity is not None and entity not in entities:
            entities.append(entity)
    confidence, stated = calibrated(hit, calibration, note)
    explanation = dict(hit.explanation)
    explanation.update(stated)
    explanation.update(
        {
            "model_version": MODEL_VERSION,
            "events_total": hit.event_count,
            "confidence": round(confidence, 4),
        }
    )
    return Finding(
        analytic_uid=f"ml.ueba.{hit.analytic}",
        analytic_name=_NAMES.get(hit.analytic, hit.analytic),
        title=hit.title,
        time=hit.time,
        severity_id=hit.severity,
        confidence=round(100 * confidence),
        evidences=evidences,
        attacks=[attack_of(t, tactic) for t, tactic in hit.techniques],
        entities=entities,
        analytic_type="ml",
        description=str(explanation.get("observed", "")),
        explanation=explanation,
        model_version=MODEL_VERSION,
    )


def _source_entity(value: str) -> Entity | None:
    return normalize_entity("ip", value) or normalize_entity("host", value)


def _summary(e: AuthEvent) -> tuple[tuple[str, str], ...]:
    parts = [
        ("user", e.user),
        ("outcome", e.outcome),
        ("source", e.source or ""),
        ("target", e.dst_host or ""),
        ("kind", e.kind),
    ]
    if e.outcome == FAILURE and e.count > 1:
        parts.append(("count", str(e.count)))
    return tuple((k, v) for k, v in parts if v)


def build(ctx: DetectorContext) -> UebaDetector:
    return UebaDetector(options_of(ctx, UebaConfig), ctx.state)
