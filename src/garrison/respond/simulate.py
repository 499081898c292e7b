"""The collateral-impact report before go-live: replay stored findings and incidents
through playbooks in shadow and count what would have happened.

The replay runs the real engine and policy on a scratch ledger in memory (the home's
state is only read), in the order the subjects happened, with the clock set to each
subject's time: rate limits and approval expiry behave as they would have live. Nothing
reaches a connector; the performer given to the engine refuses to be called.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from garrison.govern.audit import MemoryAuditLog
from garrison.respond.config import ResponseConfig
from garrison.respond.connectors.base import Delivery
from garrison.respond.engine import Engine, Executed
from garrison.respond.ledger import Ledger
from garrison.respond.matching import matches
from garrison.respond.playbook import Playbook
from garrison.respond.subjects import Subject
from garrison.store.state import StateDB

#: Parameters that name the asset an action is aimed at.
TARGETS = {"ip": "ip", "host": "host", "user": "user"}
_DAY_MS = 86_400_000


class _NeverCalled:
    def __call__(self, delivery: Delivery, live: bool) -> Executed:
        raise AssertionError("a shadow replay never calls a connector")


@dataclass(slots=True)
class PlaybookImpact:
    playbook: str
    name: str
    runs: int = 0
    first: int = 0
    last: int = 0
    would_run: Counter[str] = field(default_factory=Counter)
    approvals: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    skipped: int = 0
    assets: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    criticality: Counter[str] = field(default_factory=Counter)

    @property
    def per_day(self) -> float:
        days = max(1.0, (self.last - self.first) / _DAY_MS)
        return self.runs / days

    def to_json(self) -> dict[str, Any]:
        return {
            "playbook": self.playbook,
            "name": self.name,
            "runs": self.runs,
            "runs_per_day": round(self.per_day, 2),
            "would_run": dict(self.would_run),
            "approvals_needed": dict(self.approvals),
            "refused": dict(self.refused),
            "failed": dict(self.failed),
            "skipped_steps": self.skipped,
            "assets": {k: sorted(v) for k, v in sorted(self.assets.items())},
            "subjects_by_criticality": dict(self.criticality),
        }


@dataclass(slots=True)
class SimulationReport:
    subjects: int
    playbooks: list[PlaybookImpact]

    def to_json(self) -> dict[str, Any]:
        return {"subjects": self.subjects, "playbooks": [p.to_json() for p in self.playbooks]}


def simulate(
    playbooks: list[tuple[Playbook, str]], subjects: Iterable[Subject], cfg: ResponseConfig
) -> SimulationReport:
    ordered = sorted(subjects, key=lambda s: (s.time, s.kind, s.uid))
    ledger = Ledger(StateDB.memory())
    clock = _Clock()
    engine = Engine(ledger, MemoryAuditLog(b"\0" * 32), cfg, _NeverCalled(), "simulation", clock)
    impacts = {p.id: PlaybookImpact(p.id, p.name) for p, _ in playbooks}
    for subject in ordered:
        clock.now = subject.time
        for playbook, text in playbooks:
            if matches(playbook.trigger, subject) and engine.start(
                playbook, text, subject, "shadow"
            ):
                impact = impacts[playbook.id]
                impact.runs += 1
                impact.first = impact.first or subject.time
                impact.last = subject.time
                impact.criticality[subject.criticality] += 1
    runs = {run.id: run.playbook for run in ledger.runs()}
    for row in ledger.all_steps():
        _count(impacts[runs[row.run_id]], row.action, row.status, row.reason, row.params)
    return SimulationReport(len(ordered), list(impacts.values()))


def _count(
    impact: PlaybookImpact, action: str, status: str, reason: str, params: dict[str, Any]
) -> None:
    if status == "skipped":
        impact.skipped += 1
        return
    if status == "failed":
        impact.failed[action] += 1
        return
    if reason.startswith("would refuse"):
        impact.refused[action] += 1
        return
    if reason.startswith("would wait for approval"):
        impact.approvals[action] += 1
    else:
        impact.would_run[action] += 1
    for name, kind in TARGETS.items():
        value = params.get(name)
        if isinstance(value, str) and value:
            impact.assets[kind].add(value)


class _Clock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now
