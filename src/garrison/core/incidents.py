"""Incidents: groups of findings an analyst reads as one story (OCSF Incident Finding 2005)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from garrison.core.entities import Entity
from garrison.core.findings import SEVERITY_NAMES

RISK_BANDS = ((80, "Critical"), (60, "High"), (40, "Moderate"), (1, "Low"), (0, "Unknown"))


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

    def __post_init__(self) -> None:
        if not self.uid:
            h = hashlib.sha256("\0".join(sorted(self.finding_uids)).encode())
            self.uid = "inc-" + h.hexdigest()[:24]

    @property
    def band(self) -> str:
        return risk_band(self.risk_score)

    def to_ocsf(self) -> dict[str, Any]:
        return {
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
            "status_id": 1,
            "status": "New",
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
                "risk_parts": self.risk_parts,
            },
            "metadata": {
                "product": {"name": "Garrison", "vendor_name": "Garrison"},
                "version": "1.5.0",
            },
        }
