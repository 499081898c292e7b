"""Findings back from their OCSF form (``findings.jsonl`` lines, stored documents).

Merge and split re-score incidents from stored findings, and ``garrison kpi`` reads a run's
``findings.jsonl``: both need a ``Finding`` from the JSON it was written as. Whatever is not
in the OCSF form (an evidence's own time) comes back as 0; the last time seen is kept in
the triage block so windows still work.
"""

from __future__ import annotations

from typing import Any, cast

from garrison.core.entities import Entity, EntityKind
from garrison.core.findings import Attack, Evidence, Finding


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _attack(obj: dict[str, Any]) -> Attack:
    tech = obj.get("technique") or {}
    tactic = obj.get("tactic") or {}
    return Attack(
        technique_uid=str(tech.get("uid", "")),
        technique_name=str(tech.get("name", "")),
        tactic_uid=str(tactic.get("uid", "")),
        tactic_name=str(tactic.get("name", "")),
    )


def _evidence(obj: dict[str, Any]) -> Evidence:
    data = obj.get("data") or {}
    fields = data.get("fields") or {}
    return Evidence(
        source_path=str(data.get("source_path", "")),
        record_id=_int(data.get("record_id")),
        event_uid=str(data.get("event_uid", "")),
        summary=tuple((str(k), str(v)) for k, v in fields.items()),
    )


def finding_from_ocsf(doc: dict[str, Any]) -> Finding:
    """The ``Finding`` a ``Finding.to_ocsf()`` document describes."""
    info = doc.get("finding_info") or {}
    analytic = info.get("analytic") or {}
    unmapped = doc.get("unmapped") or {}
    explanation = dict(unmapped.get("explanation") or {})
    entities = [
        Entity(cast(EntityKind, str(r.get("type"))), str(r.get("value")))
        for r in doc.get("resources") or []
        if isinstance(r, dict) and r.get("type") and r.get("value") is not None
    ]
    finding = Finding(
        analytic_uid=str(analytic.get("uid", "")),
        analytic_name=str(analytic.get("name", "")),
        title=str(info.get("title", "")),
        time=_int(doc.get("time")),
        severity_id=_int(doc.get("severity_id")),
        confidence=_int(doc.get("confidence_score")),
        evidences=[_evidence(e) for e in doc.get("evidences") or [] if isinstance(e, dict)],
        attacks=[_attack(a) for a in info.get("attacks") or [] if isinstance(a, dict)],
        entities=entities,
        analytic_type=str(analytic.get("type", "rule")),
        description=str(info.get("desc", "")),
        explanation=explanation,
        model_version=str(analytic.get("version", "")),
        risk_score=_int(doc.get("risk_score")),
        risk_parts={str(k): float(v) for k, v in (unmapped.get("risk_parts") or {}).items()},
        count=max(1, _int(doc.get("count"), 1)),
        uid=str(info.get("uid", "")),
    )
    last = _int(info.get("last_seen_time"))
    if last > finding.time:
        triage = explanation.setdefault("triage", {"status": "active"})
        if isinstance(triage, dict):
            triage["last_seen"] = max(last, _int(triage.get("last_seen")))
    return finding
