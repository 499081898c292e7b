"""Incidents: groups of findings an analyst reads as one story (OCSF Incident Finding 2005)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from garrison.core.entities import Entity
from garrison.core.findings import SEVERITY_NAMES

RISK_BANDS = ((80, "Critical"), (60, "High"), (40, "Moderate"), (1, "Low"), (0, "Unknown"))

#: Incident workflow states and their OCSF ``status_id``.
INCIDENT_STATUS_IDS = {
    "new": 1,
    "acknowledged": 2,
    "resolved": 4,
    "closed": 5,
    "merged": 99,
    "suppressed": 99,
}
#: Analyst dispositions and their OCSF ``verdict_id`` (1 False Positive, 2 True Positive,
#: 5 Benign: a benign true positive is activity the analytic meant to catch, but harmless).
VERDICT_IDS = {"fp": 1, "tp": 2, "btp": 5}
VERDICT_NAMES = {"fp": "False Positive", "tp": "True Positive", "btp": "Benign"}


def risk_band(score: float) -> str:
    """Band of a 0-100 risk score.

    >>> risk_band(85), risk_band(45), risk_band(0)
    ('Critical', 'Moderate', 'Unknown')
    """
    for floor, name in RISK_BANDS:
        if score >= floor:
            return name
    return "Unknown"


@dataclass(slots=True)
class Incident:
    title: str
    finding_uids: list[str]
    first_time: int
    last_time: int
    risk_score: int
    severity_id: int
    entities: list[Entity] = field(default_factory=list)
    tactics: list[str] = field(default_factory=list)
    techniques: list[str] = field(default_factory=list)
    #: Ordered story: one entry per finding, along the kill chain and in time.
    timeline: list[dict[str, Any]] = field(default_factory=list)
    #: Why the score is what it is: part name -> contribution (sums to risk_score).
    risk_parts: dict[str, float] = field(default_factory=dict)
    uid: str = ""
    #: Workflow state (see ``INCIDENT_STATUS_IDS``) and the analyst's verdict (tp/btp/fp).
    status: str = "new"
    verdict: str = ""
    #: Event time at which an entity's risk crossed the threshold and opened the incident.
    opened_at: int = 0
    #: Kill-chain stages in ATT&CK order: tactic, first time, techniques, finding uids.
    stages: list[dict[str, Any]] = field(default_factory=list)
    #: Top contributing findings and factors, the entity that crossed the threshold.
    explanation: dict[str, Any] = field(default_factory=dict)
    #: Assets, identities and intel of the grouped findings (kept through merge / split).
    enrichment: dict[str, Any] = field(default_factory=dict)
    #: Similar past incidents: uid, title, similarity, verdict.
    similar: list[dict[str, Any]] = field(default_factory=list)
    #: Raw findings folded in (deduplicated repeats count here).
    raw_findings: int = 0
    description: str = ""

    def __post_init__(self) -> None:
        if not self.uid:
            self.uid = incident_uid(self.finding_uids)
        if not self.raw_findings:
            self.raw_findings = len(self.finding_uids)

    @property
    def band(self) -> str:
        return risk_band(self.risk_score)

    def to_ocsf(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "class_uid": 2005,
            "class_name": "Incident Finding",
            "category_uid": 2,
            "activity_id": 1,
            "type_uid": 200501,
            "time": self.first_time,
            "severity_id": self.severity_id,
            "severity": SEVERITY_NAMES.get(self.severity_id, "Unknown"),
            "risk_score": self.risk_score,
            "risk_level": self.band,
            "status_id": INCIDENT_STATUS_IDS.get(self.status, 99),
            "status": self.status.capitalize(),
            "finding_info_list": [{"uid": u} for u in self.finding_uids],
            "finding_info": {
                "uid": self.uid,
                "title": self.title,
                "first_seen_time": self.first_time,
                "last_seen_time": self.last_time,
            },
            "resources": [e.to_json() for e in self.entities],
            "attacks": [{"tactic": {"name": t}} for t in self.tactics],
            "unmapped": {
                "techniques": self.techniques,
                "timeline": self.timeline,
                "stages": self.stages,
                "risk_parts": self.risk_parts,
                "explanation": self.explanation,
                "enrichment": self.enrichment,
                "similar": self.similar,
                "opened_at": self.opened_at,
                "raw_findings": self.raw_findings,
            },
            "metadata": {
                "product": {"name": "Garrison", "vendor_name": "Garrison"},
                "version": "1.5.0",
            },
        }
        if self.description:
            out["desc"] = self.description
        if self.verdict in VERDICT_IDS:
            out["verdict_id"] = VERDICT_IDS[self.verdict]
            out["verdict"] = VERDICT_NAMES[self.verdict]
        return out


def incident_uid(finding_uids: list[str]) -> str:
    """Deterministic id: the same findings always make the same incident."""
    h = hashlib.sha256("\0".join(sorted(finding_uids)).encode())
    return "inc-" + h.hexdigest()[:24]
