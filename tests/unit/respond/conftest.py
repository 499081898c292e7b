"""Shared pieces of the response tests: stored findings/incidents and a recording performer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from garrison.core.entities import Entity
from garrison.core.findings import Attack, Evidence, Finding
from garrison.core.incidents import Incident
from garrison.correlate.store import IncidentStore
from garrison.govern.audit import MemoryAuditLog
from garrison.respond.config import ResponseConfig
from garrison.respond.connectors.base import Delivery, Receipt
from garrison.respond.engine import Executed
from garrison.respond.service import ResponseService
from garrison.store.state import StateDB
from garrison.triage.store import FindingStore


def make_finding(
    analytic: str = "ml.beacon",
    entities: tuple[tuple[str, str], ...] = (("ip", "203.0.113.7"), ("host", "ws-1")),
    severity: int = 4,
    confidence: int = 90,
    risk: int = 75,
    techniques: tuple[str, ...] = ("T1071",),
    time: int = 1_700_000_000_000,
    record: int = 1,
) -> Finding:
    return Finding(
        analytic_uid=analytic,
        analytic_name=analytic,
        title=f"{analytic} on {entities[0][1] if entities else '-'}",
        time=time,
        severity_id=severity,
        confidence=confidence,
        evidences=[Evidence("f.jsonl", record, time=time)],
        attacks=[Attack(t) for t in techniques],
        entities=[Entity(k, v) for k, v in entities],  # type: ignore[arg-type]
        risk_score=risk,
    )


def make_incident(
    findings: list[Finding], risk: int = 85, uid: str = "inc-1", techniques: tuple[str, ...] = ()
) -> Incident:
    return Incident(
        title="incident",
        finding_uids=[f.uid for f in findings],
        first_time=min(f.time for f in findings),
        last_time=max(f.time for f in findings),
        risk_score=risk,
        severity_id=5 if risk >= 80 else 4,
        entities=sorted({e for f in findings for e in f.entities}),
        techniques=list(techniques)
        or sorted({a.technique_uid for f in findings for a in f.attacks}),
        uid=uid,
    )


@dataclass
class Twin:
    """A performer that records every delivery; ``fail`` makes the next sends fail."""

    checks: list[Delivery] = field(default_factory=list)
    sends: list[Delivery] = field(default_factory=list)
    fail: int = 0

    def __call__(self, delivery: Delivery, live: bool) -> Executed:
        (self.sends if live else self.checks).append(delivery)
        if self.fail:
            self.fail -= 1
            return Executed(None, "peer refused", 3)
        return Executed(Receipt(f"ref-{len(self.sends)}", "done"), "", 1)


class Clock:
    def __init__(self, now: int = 1_700_000_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@dataclass
class Home:
    state: StateDB
    audit: MemoryAuditLog
    twin: Twin
    clock: Clock
    cfg: ResponseConfig
    denied: set[str] = field(default_factory=set)

    def service(self, actor: str = "alice") -> ResponseService:
        def authorize(permission: str) -> None:
            if permission in self.denied:
                from garrison.core.errors import UsageError

                raise UsageError(f"{actor} may not {permission}")

        return ResponseService(
            self.cfg, self.state, self.audit, self.twin, authorize, actor, clock=self.clock
        )

    def store(self, findings: list[Finding], incidents: list[Incident] = ()) -> None:  # type: ignore[assignment]
        FindingStore(self.state).save(findings, "test")
        if incidents:
            IncidentStore(self.state).save(list(incidents), "test")


@pytest.fixture
def home() -> Home:
    return Home(StateDB.memory(), MemoryAuditLog(b"k" * 32), Twin(), Clock(), ResponseConfig())


def write_playbook(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yml"
    path.write_text(text, encoding="utf-8")
    return folder
