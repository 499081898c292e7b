"""What the KPIs are computed from, read from the state database or a hunt's output folder.

Both sources give the same views: findings (analytic, detector, time, score, criticality,
evidences, incident) and incidents (score, band, criticality, times, verdict), plus the
analysts' dispositions and the incident workflow times when the state has them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.core.errors import InputError
from garrison.core.incidents import risk_band
from garrison.correlate.store import IncidentStore
from garrison.store.state import StateDB
from garrison.triage.store import FindingStore


@dataclass(slots=True)
class FindingView:
    uid: str
    analytic_uid: str
    analytic_name: str
    detector: str
    time: int
    risk_score: int
    confidence: int
    criticality: str
    count: int
    status: str
    incident: str | None
    evidences: list[tuple[str, int]] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)


@dataclass(slots=True)
class IncidentView:
    uid: str
    title: str
    risk_score: int
    band: str
    criticality: str
    first_time: int
    opened_at: int
    findings: list[str]
    raw_findings: int
    entities: list[str]
    verdict: str = ""
    status: str = "new"
    created_at: int | None = None
    acknowledged_at: int | None = None
    resolved_at: int | None = None


@dataclass(slots=True)
class KpiData:
    findings: list[FindingView]
    incidents: list[IncidentView]
    #: finding uid -> tp/btp/fp (own verdict, else its incident's)
    verdicts: dict[str, str] = field(default_factory=dict)
    source: str = ""


def detector_of(analytic: dict[str, Any]) -> str:
    """Detector family: ``sigma`` for rules, else the analytic uid's prefix (``ml.dga``)."""
    kind = str(analytic.get("type", "") or "")
    uid = str(analytic.get("uid", "") or "")
    if kind in ("rule", "correlation"):
        return "sigma" if kind == "rule" else "sigma-correlation"
    return uid.split(":")[0] or kind or "unknown"


def finding_view(doc: dict[str, Any]) -> FindingView:
    info = doc.get("finding_info") or {}
    analytic = info.get("analytic") or {}
    expl = (doc.get("unmapped") or {}).get("explanation") or {}
    triage = expl.get("triage") or {}
    enrichment = expl.get("enrichment") or {}
    evidences = []
    for ev in doc.get("evidences") or []:
        data = (ev or {}).get("data") or {}
        try:
            evidences.append((str(data.get("source_path", "")), int(data.get("record_id", 0))))
        except (TypeError, ValueError):
            continue
    return FindingView(
        uid=str(info.get("uid", "")),
        analytic_uid=str(analytic.get("uid", "")),
        analytic_name=str(analytic.get("name", "")),
        detector=detector_of(analytic),
        time=int(doc.get("time", 0) or 0),
        risk_score=int(doc.get("risk_score", 0) or 0),
        confidence=int(doc.get("confidence_score", 0) or 0),
        criticality=str(enrichment.get("criticality", "unknown")),
        count=int(doc.get("count", 1) or 1),
        status=str(triage.get("status", "active")),
        incident=triage.get("incident"),
        evidences=evidences,
        entities=[
            f"{r.get('type')}:{r.get('value')}"
            for r in doc.get("resources") or []
            if isinstance(r, dict)
        ],
    )


def incident_view(doc: dict[str, Any], row: dict[str, Any] | None = None) -> IncidentView:
    info = doc.get("finding_info") or {}
    unmapped = doc.get("unmapped") or {}
    score = int(doc.get("risk_score", 0) or 0)
    verdicts = {1: "fp", 2: "tp", 5: "btp"}
    findings = [str(x.get("uid")) for x in doc.get("finding_info_list") or []]
    view = IncidentView(
        uid=str(info.get("uid", "")),
        title=str(info.get("title", "")),
        risk_score=score,
        band=str(doc.get("risk_level") or risk_band(score)),
        criticality=str((unmapped.get("enrichment") or {}).get("criticality", "unknown")),
        first_time=int(info.get("first_seen_time", doc.get("time", 0)) or 0),
        opened_at=int(unmapped.get("opened_at", 0) or 0),
        findings=findings,
        raw_findings=int(unmapped.get("raw_findings", len(findings)) or len(findings)),
        entities=[
            f"{r.get('type')}:{r.get('value')}"
            for r in doc.get("resources") or []
            if isinstance(r, dict)
        ],
        verdict=verdicts.get(int(doc.get("verdict_id", 0) or 0), ""),
        status=str(doc.get("status", "New")).lower(),
    )
    if row:
        view.status, view.verdict = str(row["status"]), str(row["verdict"])
        view.created_at = _opt_int(row.get("created_at"))
        view.acknowledged_at = _opt_int(row.get("acknowledged_at"))
        view.resolved_at = _opt_int(row.get("resolved_at"))
    return view


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path} line {lineno}: not JSON ({exc.msg})") from exc
    except FileNotFoundError as exc:
        raise InputError(f"{path} not found (is this a hunt's --out folder?)") from exc


def from_run(folder: Path) -> KpiData:
    """A hunt's output folder: findings.jsonl and incidents.jsonl."""
    findings = [finding_view(d) for d in _jsonl(folder / "findings.jsonl")]
    incidents = [incident_view(d) for d in _jsonl(folder / "incidents.jsonl")]
    owner = {u: i.uid for i in incidents for u in i.findings}
    for f in findings:
        f.incident = f.incident or owner.get(f.uid)
    return KpiData(findings, incidents, {}, source=str(folder))


def from_state(state: StateDB) -> KpiData:
    """Everything stored: findings, incidents (except merged ones), verdicts, times."""
    fstore, istore = FindingStore(state), IncidentStore(state)
    findings = [
        finding_view(json.loads(str(doc)))
        for (doc,) in state.query("SELECT doc FROM triage_findings")
    ]
    rows = {r["uid"]: r for r in istore.rows("WHERE status != 'merged'")}
    incidents = []
    for uid, doc in state.query("SELECT uid, doc FROM incidents WHERE status != 'merged'"):
        incidents.append(incident_view(json.loads(str(doc)), rows.get(str(uid))))
    membership = istore.membership()
    for f in findings:
        f.incident = membership.get(f.uid, f.incident)
    own = {u: d.disposition for u, d in fstore.dispositions("finding").items()}
    by_incident = {u: d.disposition for u, d in fstore.dispositions("incident").items()}
    verdicts = {f: by_incident[i] for f, i in membership.items() if i in by_incident}
    verdicts.update(own)
    return KpiData(findings, incidents, verdicts, source=state.path)
