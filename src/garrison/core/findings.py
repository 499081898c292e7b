"""Findings: what a detector reports, and their OCSF Detection Finding (2004) form.

Every detector (Sigma, intel, ML) produces ``Finding`` objects; triage fills in
``risk_score``; the pipeline writes ``to_ocsf()`` per line into ``findings.jsonl``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from garrison.core.entities import Entity

#: OCSF severity ids.
SEVERITY_UNKNOWN = 0
SEVERITY_INFORMATIONAL = 1
SEVERITY_LOW = 2
SEVERITY_MEDIUM = 3
SEVERITY_HIGH = 4
SEVERITY_CRITICAL = 5
SEVERITY_NAMES = {0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}


@dataclass(slots=True, frozen=True)
class Attack:
    """One ATT&CK technique a finding maps to, with its tactic when known."""

    technique_uid: str
    technique_name: str = ""
    tactic_uid: str = ""
    tactic_name: str = ""

    def to_ocsf(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.technique_uid:
            out["technique"] = {"uid": self.technique_uid}
            if self.technique_name:
                out["technique"]["name"] = self.technique_name
        if self.tactic_uid or self.tactic_name:
            out["tactic"] = {
                k: v for k, v in (("uid", self.tactic_uid), ("name", self.tactic_name)) if v
            }
        return out


@dataclass(slots=True, frozen=True)
class Evidence:
    """A pointer to a triggering event: input file as given and its record id."""

    source_path: str
    record_id: int
    event_uid: str = ""
    time: int = 0
    #: A few fields an analyst wants to see without opening the raw record.
    summary: tuple[tuple[str, str], ...] = ()

    def to_ocsf(self) -> dict[str, Any]:
        data: dict[str, Any] = {"source_path": self.source_path, "record_id": self.record_id}
        if self.event_uid:
            data["event_uid"] = self.event_uid
        if self.summary:
            data["fields"] = dict(self.summary)
        return {"data": data}


@dataclass(slots=True)
class Finding:
    """A detection: which analytic fired, on which events, about which entities, and why."""

    analytic_uid: str
    analytic_name: str
    title: str
    time: int
    severity_id: int
    confidence: int
    evidences: list[Evidence]
    attacks: list[Attack] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    #: "rule" (Sigma), "intel", "ml", "correlation" ...
    analytic_type: str = "rule"
    description: str = ""
    #: Why it fired, for the analyst: baseline vs observed, top features, matched values.
    explanation: dict[str, Any] = field(default_factory=dict)
    model_version: str = ""
    risk_score: int = 0
    risk_parts: dict[str, float] = field(default_factory=dict)
    #: Set when noise control folds repeats into this finding.
    count: int = 1
    uid: str = ""

    def __post_init__(self) -> None:
        if not self.uid:
            self.uid = finding_uid(self.analytic_uid, self.evidences)
        self.severity_id = max(0, min(5, int(self.severity_id)))
        self.confidence = max(0, min(100, int(self.confidence)))

    @property
    def last_time(self) -> int:
        times = [e.time for e in self.evidences if e.time]
        return max(times) if times else self.time

    def to_ocsf(self) -> dict[str, Any]:
        """The OCSF 1.x Detection Finding object written to ``findings.jsonl``."""
        info: dict[str, Any] = {
            "uid": self.uid,
            "title": self.title,
            "analytic": {
                "uid": self.analytic_uid,
                "name": self.analytic_name,
                "type": self.analytic_type,
            },
            "attacks": [a.to_ocsf() for a in self.attacks],
            "first_seen_time": self.time,
            "last_seen_time": self.last_time,
        }
        if self.description:
            info["desc"] = self.description
        out: dict[str, Any] = {
            "class_uid": 2004,
            "class_name": "Detection Finding",
            "category_uid": 2,
            "activity_id": 1,
            "type_uid": 200401,
            "time": self.time,
            "severity_id": self.severity_id,
            "severity": SEVERITY_NAMES.get(self.severity_id, "Unknown"),
            "risk_score": self.risk_score,
            "confidence_score": self.confidence,
            "count": self.count,
            "finding_info": info,
            "evidences": [e.to_ocsf() for e in self.evidences],
            "resources": _resources(self.entities, self.explanation),
            "metadata": {
                "product": {"name": "Garrison", "vendor_name": "Garrison"},
                "version": "1.5.0",
            },
            "unmapped": {"explanation": self.explanation, "risk_parts": self.risk_parts},
            **_workflow(self.explanation),
        }
        if self.model_version:
            info["analytic"]["version"] = self.model_version
        return out


#: OCSF status_id / verdict_id for the triage state kept under ``explanation["triage"]``.
_STATUS_IDS = {"active": (1, "New"), "suppressed": (3, "Suppressed"), "resolved": (4, "Resolved")}
_VERDICT_IDS = {"fp": (1, "False Positive"), "tp": (2, "True Positive"), "btp": (5, "Benign")}


def _workflow(explanation: dict[str, Any]) -> dict[str, Any]:
    """OCSF ``status``/``verdict`` from triage state (absent: a new, unjudged finding)."""
    triage = explanation.get("triage")
    triage = triage if isinstance(triage, dict) else {}
    status_id, status = _STATUS_IDS.get(str(triage.get("status", "active")), (99, "Other"))
    out: dict[str, Any] = {"status_id": status_id, "status": status}
    verdict = _VERDICT_IDS.get(str(triage.get("disposition", "")))
    if verdict:
        out["verdict_id"], out["verdict"] = verdict
    return out


def _resources(entities: list[Entity], explanation: dict[str, Any]) -> list[dict[str, Any]]:
    """Entities as OCSF resources; hosts carry the asset criticality from enrichment."""
    enrichment = explanation.get("enrichment")
    criticality = enrichment.get("criticality") if isinstance(enrichment, dict) else None
    out: list[dict[str, Any]] = []
    for entity in entities:
        item: dict[str, Any] = entity.to_json()
        if entity.kind == "host" and criticality and criticality != "unknown":
            item["criticality"] = str(criticality)
        out.append(item)
    return out


def finding_uid(analytic_uid: str, evidences: list[Evidence]) -> str:
    """Deterministic id: the same analytic on the same events gives the same finding."""
    h = hashlib.sha256(analytic_uid.encode())
    for ev in evidences:
        h.update(b"\0")
        h.update(ev.event_uid.encode() or f"{ev.source_path}#{ev.record_id}".encode())
    return h.hexdigest()[:32]
