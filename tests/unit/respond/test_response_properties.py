"""Across random playbooks, findings, policies, human decisions and crash points:

* no disruptive or destructive action is ever sent live without an approval granted by a
  quorum of authorised identities to exactly the parameters sent;
* every action a peer executed has exactly one ``respond.execute`` audit entry, and no
  such entry claims an execution the peer never saw.

A crash is a ``Crash`` (a BaseException, like a SIGKILL it is caught by nothing) raised
at one of the engine's named failpoints or inside the peer; the "restart" is a new service
on the same state and audit log, which carries on where the dead one stopped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from garrison.core.errors import UsageError
from garrison.govern.audit import MemoryAuditLog
from garrison.respond import approvals as approvals_module
from garrison.respond import engine as engine_module
from garrison.respond.actions import ACTIONS, GATED
from garrison.respond.config import ResponseConfig
from garrison.respond.connectors.base import Delivery, Receipt
from garrison.respond.engine import Executed, params_digest
from garrison.respond.ledger import Ledger
from garrison.respond.service import ResponseService
from garrison.store.state import StateDB
from garrison.triage.store import FindingStore
from tests.unit.respond.conftest import Clock, make_finding

POINTS = (
    "respond.before-send",
    "respond.after-send",
    "respond.after-audit",
    "respond.after-approval",
    "peer.after-apply",
)
AUTHORISED = ("r1", "r2", "r3")
PARAMS = {
    "ip": "{{entity}}",
    "host": "ws-1",
    "user": "alice",
    "connector": "hook",
    "to": "soc@example.org",
    "queue": "soc",
}


class Crash(BaseException):
    """The process died here."""


@dataclass
class Peer:
    """The world: applies each delivery, remembers keys (as a peer honouring
    Idempotency-Key does), and can die after applying."""

    applied: dict[str, Delivery] = field(default_factory=dict)
    deliveries: Counter[str] = field(default_factory=Counter)
    crash: Crasher | None = None

    def __call__(self, delivery: Delivery, live: bool) -> Executed:
        if live:
            self.deliveries[delivery.key] += 1
            self.applied.setdefault(delivery.key, delivery)
            if self.crash:
                self.crash.hit("peer.after-apply")
        return Executed(Receipt("ok"), "", 1)


@dataclass
class Crasher:
    point: str
    countdown: int
    fired: bool = False

    def hit(self, name: str) -> None:
        if self.fired or name != self.point:
            return
        self.countdown -= 1
        if self.countdown <= 0:
            self.fired = True
            raise Crash(name)


def _step(draw: st.DrawFn, index: int, earlier: list[str]) -> dict[str, Any]:
    action = draw(st.sampled_from(ACTIONS.names()))
    spec = ACTIONS.get(action)
    step: dict[str, Any] = {
        "id": f"s{index}",
        "action": action,
        "params": {k: PARAMS[k] for k in spec.required},
    }
    if spec.impact in GATED or draw(st.booleans()):
        step["approval"] = {
            "required": spec.impact in GATED or draw(st.booleans()),
            "quorum": draw(st.integers(1, 2)),
            "expires": draw(st.sampled_from(["10m", "1h"])),
            "fallback": draw(st.sampled_from(["reject", "escalate"])),
        }
    if earlier and draw(st.booleans()):
        step["when"] = {
            "step": draw(st.sampled_from(earlier)),
            "outcome": draw(st.sampled_from(["succeeded", "failed"])),
        }
    return step


@st.composite
def playbooks(draw: st.DrawFn) -> str:
    steps: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, 5))):
        steps.append(_step(draw, index, [s["id"] for s in steps]))
    doc = {
        "id": "p",
        "name": "random",
        "mode": "live",
        "trigger": {"on": "finding", "entity_type": "ip"},
        "steps": steps,
    }
    return yaml.safe_dump(doc, sort_keys=False)


decisions = st.lists(
    st.tuples(
        st.integers(0, 2),  # which pending approval
        st.sampled_from((*AUTHORISED, *AUTHORISED, "viewer")),
        st.sampled_from(("approve",) * 5 + ("edit", "reject", "wait")),
    ),
    max_size=16,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    playbook=playbooks(),
    confidences=st.lists(st.integers(0, 100), min_size=1, max_size=3),
    min_confidence=st.integers(0, 100),
    ticket_rate=st.integers(1, 3),
    script=decisions,
    point=st.sampled_from(POINTS),
    countdown=st.integers(1, 3),
)
def test_no_unapproved_gated_action_and_one_audit_entry_per_execution(
    tmp_path_factory: Any,
    playbook: str,
    confidences: list[int],
    min_confidence: int,
    ticket_rate: int,
    script: list[tuple[int, str, str]],
    point: str,
    countdown: int,
) -> None:
    folder: Path = tmp_path_factory.mktemp("pb")
    (folder / "p.yml").write_text(playbook, encoding="utf-8")
    state, audit, clock = StateDB.memory(), MemoryAuditLog(b"k" * 32), Clock()
    cfg = ResponseConfig(
        reversible_min_confidence=min_confidence, rate_limits={"ticket.open": f"{ticket_rate}/h"}
    )
    crasher = Crasher(point, countdown)
    peer = Peer(crash=crasher)
    FindingStore(state).save(
        [make_finding(confidence=c, record=i) for i, c in enumerate(confidences)], "t"
    )

    def service(actor: str) -> ResponseService:
        def authorize(permission: str) -> None:
            if permission == "approvals.decide" and actor not in AUTHORISED:
                raise UsageError(f"{actor} may not decide")

        return ResponseService(cfg, state, audit, peer, authorize, actor, clock=clock)

    def attempt(action: Any) -> None:
        try:
            action()
        except Crash:
            pass  # the process died; the next call is the restart
        except UsageError:
            pass  # refused: unauthorised, already decided, no longer pending

    original = engine_module.failpoint, approvals_module.failpoint
    engine_module.failpoint = approvals_module.failpoint = crasher.hit  # type: ignore[assignment]
    try:
        attempt(lambda: service("r1").respond([folder]))
        for index, who, op in script:
            pending = Ledger(state).approvals("pending")
            if op == "wait":
                clock.now += 20 * 60_000
                attempt(lambda: service("r1").respond([folder]))
                continue
            if not pending:
                continue
            target = pending[index % len(pending)].id
            if op == "approve":
                attempt(lambda w=who, t=target: service(w).approve(t))
            elif op == "edit":
                attempt(lambda w=who, t=target: service(w).approve(t, {"reason": f"edited by {w}"}))
            else:
                attempt(lambda w=who, t=target: service(w).reject(t, "not this one"))
        for who in AUTHORISED[:2]:  # then the responders clear the queue
            for row in Ledger(state).approvals("pending"):
                attempt(lambda w=who, r=row.id: service(w).approve(r))
        attempt(lambda: service("r1").respond([folder]))
        service("r1").respond([folder])  # the last restart runs with no crash left
    finally:
        engine_module.failpoint, approvals_module.failpoint = original

    ledger = Ledger(state)
    event(f"crashed at {point}: {crasher.fired}")
    gated = [d for d in peer.applied.values() if ACTIONS.get(d.action).impact in GATED]
    event(f"gated actions executed: {min(len(gated), 2)}")
    event(f"repeated deliveries: {any(n > 1 for n in peer.deliveries.values())}")
    for key, delivery in peer.applied.items():
        if ACTIONS.get(delivery.action).impact not in GATED:
            continue
        granted = [a for a in ledger.approvals("approved") if a.key == key]
        assert granted, f"{delivery.action} ran with no granted approval"
        approval = granted[0]
        assert approval.digest == params_digest(dict(delivery.params))
        voters = {
            who
            for who, decision, digest, _ in ledger.votes(approval.id)
            if decision == "approve" and digest == approval.digest
        }
        assert voters <= set(AUTHORISED) and len(voters) >= approval.quorum
    executed = Counter(
        e.target for e in audit.entries(action="respond.execute") if e.outcome == "ok"
    )
    assert set(executed) == set(peer.applied), "audit and peer disagree on what ran"
    assert all(count == 1 for count in executed.values()), executed
    assert all(r.status == "done" or r.status == "waiting" for r in ledger.runs())
