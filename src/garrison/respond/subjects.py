"""What a playbook is triggered by: a stored finding or incident, read as a ``Subject``.

A subject flattens the fields a trigger may test (analytic, techniques, risk, severity,
entity types, asset criticality) and the ones a step may name in its parameters
(``{{entity}}``, ``{{incident.id}}``). Every text in it came from telemetry and is treated
as attacker-controlled: it is matched and copied, never interpreted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from garrison.core.entities import Entity
from garrison.core.findings import SEVERITY_NAMES, Finding
from garrison.core.incidents import Incident, risk_band
from garrison.correlate.store import IncidentStore
from garrison.triage.enrich.enricher import criticality_of, enrichment_of
from garrison.triage.store import FindingStore

SubjectKind = Literal["finding", "incident"]
_CRITICALITY_ORDER = ("unknown", "low", "medium", "high", "critical")
#: Incidents in these states are finished: no playbook starts on them.
_CLOSED_INCIDENTS = ("resolved", "closed", "merged", "suppressed")


@dataclass(frozen=True, slots=True)
class Subject:
    kind: SubjectKind
    uid: str
    title: str
    analytics: tuple[str, ...]
    techniques: tuple[str, ...]
    risk: int
    #: Severity name (a finding's) and risk band (an incident's) both, for triggers.
    severities: tuple[str, ...]
    #: Finding: its confidence; incident: its risk score (an incident has no confidence).
    confidence: int
    entities: tuple[Entity, ...]
    criticality: str
    enrichment: dict[str, Any] = field(default_factory=dict)
    #: When it started (ms): a finding's first event, an incident's first finding.
    time: int = 0

    @property
    def intel_listed(self) -> bool:
        """An intel feed lists one of its entities, or an intel analytic fired in it."""
        return bool(self.enrichment.get("intel")) or any(
            a == "intel" or a.startswith("intel.") for a in self.analytics
        )

    def entity(self, kind: str | None = None) -> Entity | None:
        """The first entity of ``kind`` (any kind when None)."""
        for ent in self.entities:
            if kind is None or ent.kind == kind:
                return ent
        return None

    def to_dict(self) -> dict[str, Any]:
        """Everything, as JSON-ready values (a run stores its subject with it)."""
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["entities"] = [e.to_json() for e in self.entities]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Subject:
        fields = dict(data)
        fields["entities"] = tuple(Entity(e["type"], e["value"]) for e in data.get("entities", ()))
        for name in ("analytics", "techniques", "severities"):
            fields[name] = tuple(data.get(name, ()))
        return cls(**fields)

    def summary(self) -> dict[str, Any]:
        """What a connector may send about the subject (``Delivery.subject``)."""
        return {
            "kind": self.kind,
            "uid": self.uid,
            "title": self.title,
            "risk": self.risk,
            "entities": [e.to_json() for e in self.entities],
            "enrichment": self.enrichment,
        }


def from_finding(finding: Finding) -> Subject:
    return Subject(
        kind="finding",
        uid=finding.uid,
        title=finding.title,
        analytics=(finding.analytic_uid,),
        techniques=tuple(a.technique_uid for a in finding.attacks),
        risk=finding.risk_score,
        severities=(SEVERITY_NAMES.get(finding.severity_id, "Unknown"),),
        confidence=finding.confidence,
        entities=tuple(finding.entities),
        criticality=criticality_of(finding),
        enrichment=dict(enrichment_of(finding)),
        time=finding.time,
    )


def from_incident(incident: Incident, findings: list[Finding]) -> Subject:
    criticalities = [criticality_of(f) for f in findings] or ["unknown"]
    return Subject(
        kind="incident",
        uid=incident.uid,
        title=incident.title,
        analytics=tuple(dict.fromkeys(f.analytic_uid for f in findings)),
        techniques=tuple(incident.techniques),
        risk=incident.risk_score,
        severities=(
            risk_band(incident.risk_score),
            SEVERITY_NAMES.get(incident.severity_id, "Unknown"),
        ),
        confidence=incident.risk_score,
        entities=tuple(incident.entities),
        criticality=max(criticalities, key=_criticality_rank),
        enrichment=_incident_enrichment(incident, findings),
        time=incident.first_time,
    )


def _incident_enrichment(incident: Incident, findings: list[Finding]) -> dict[str, Any]:
    """The incident's enrichment, with the intel hits of its findings gathered in."""
    out = dict(incident.enrichment)
    hits = [hit for f in findings for hit in enrichment_of(f).get("intel", ()) or ()]
    if hits and not out.get("intel"):
        out["intel"] = hits
    return out


def _criticality_rank(name: str) -> int:
    return _CRITICALITY_ORDER.index(name) if name in _CRITICALITY_ORDER else 0


def stored_subjects(findings: FindingStore, incidents: IncidentStore) -> Iterator[Subject]:
    """Active findings and open incidents of the state, oldest first (so a replay meets
    them in the order they happened)."""
    uids = [str(r["uid"]) for r in findings.rows("WHERE status = 'active' ORDER BY time, uid")]
    for finding in findings.load(uids):
        yield from_finding(finding)
    placeholders = ",".join("?" * len(_CLOSED_INCIDENTS))
    rows = incidents.rows(
        f"WHERE status NOT IN ({placeholders}) ORDER BY first_time, uid", _CLOSED_INCIDENTS
    )
    for row in rows:
        incident = incidents.get(str(row["uid"]))
        if incident is not None:
            yield from_incident(incident, findings.load(incident.finding_uids))
