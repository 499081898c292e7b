"""Carrying a playbook run forward, step by step, under the policy, exactly once.

A run walks its playbook's steps in order. A new step is *planned*: its ``when`` is read,
its parameters filled, the policy asked; the answer is recorded before anything acts
(``shadow``, ``refused``, ``skipped``, ``awaiting`` an approval, or ``planned`` to run).
A step that runs is first *claimed* in a transaction (``executing``), then performed,
then audited, then marked final. Whatever the point a process dies at, the next
``advance`` of the run finds the step where it was left:

* ``approved`` (killed between the approval and the call): claimed and run now, once;
* ``executing`` with an audit entry for its key (killed after the call was recorded):
  finished from that entry, not called again;
* ``executing`` without one (killed during the call): called again with the same
  idempotency key, which the peer uses to recognise the repeat.

So an action is performed once per key, and has exactly one ``respond.execute`` entry.
Defence in depth: a ``disruptive`` or ``destructive`` step never reaches a connector live
without an ``approved`` approval whose parameters digest matches the step's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from garrison.core.failpoints import failpoint
from garrison.core.timeutil import now_ms
from garrison.govern.audit import AuditLog
from garrison.respond.actions import ACTIONS, GATED
from garrison.respond.check import load_text
from garrison.respond.config import ResponseConfig
from garrison.respond.connectors.base import Delivery, Receipt
from garrison.respond.ledger import (
    FAILURE,
    SUCCESS,
    ApprovalRow,
    Ledger,
    Run,
    StepRow,
    dumps,
)
from garrison.respond.nodes import Invalid
from garrison.respond.playbook import Playbook, Step
from garrison.respond.policy import Decision, decide
from garrison.respond.render import RenderError, render_params
from garrison.respond.subjects import Subject

EXECUTE = "respond.execute"


@dataclass(frozen=True, slots=True)
class Executed:
    """What performing a delivery came to, after its retries."""

    receipt: Receipt | None
    error: str = ""
    attempts: int = 1


class Performer(Protocol):
    def __call__(self, delivery: Delivery, live: bool) -> Executed: ...


def _hash(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def run_id(playbook: str, kind: str, uid: str) -> str:
    return "run-" + _hash(playbook, kind, uid)[:20]


def step_key(run: str, step: str) -> str:
    """The idempotency key of one step of one run: stable across retries and restarts."""
    return "gk-" + _hash(run, step)[:32]


def params_digest(params: dict[str, Any]) -> str:
    return _hash(dumps(params))[:24]


class Engine:
    def __init__(
        self,
        ledger: Ledger,
        audit: AuditLog,
        cfg: ResponseConfig,
        performer: Performer,
        actor: str | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.ledger, self.audit, self.cfg = ledger, audit, cfg
        self.performer, self.actor, self.clock = performer, actor, clock

    # -- runs -------------------------------------------------------------------------------
    def start(self, playbook: Playbook, source_text: str, subject: Subject, mode: str) -> bool:
        """Start the playbook on the subject unless it already handled it; False if so."""
        run = Run(
            id=run_id(playbook.id, subject.kind, subject.uid),
            playbook=playbook.id,
            digest=_hash(source_text)[:24],
            source_text=source_text,
            subject_kind=subject.kind,
            subject_uid=subject.uid,
            subject=subject.to_dict(),
            mode=mode,
            status="running",
        )
        if not self.ledger.start_run(run, self.clock()):
            return False
        self.advance(run)
        return True

    def advance(self, run: Run) -> str:
        """Carry the run as far as it can go now: ``done``, or ``waiting`` on an approval."""
        try:
            playbook = load_text(run.source_text, run.playbook)
        except Invalid as exc:  # e.g. an action removed from this version of Garrison
            self.ledger.set_run_status(run.id, "done", self.clock())
            self._audit(
                "respond.run",
                run.id,
                "error:invalid-playbook",
                {"playbook": run.playbook, "line": exc.line, "reason": exc.reason},
            )
            return "done"
        subject = Subject.from_dict(run.subject)
        rows = self.ledger.steps(run.id)
        for step in playbook.steps:
            row = rows.get(step.id) or self._plan(run, playbook, step, subject, rows)
            if row.status in ("planned", "approved", "executing"):
                row = self._execute(run, row, subject)
            rows[step.id] = row
            if row.status == "awaiting":
                self.ledger.set_run_status(run.id, "waiting", self.clock())
                return "waiting"
        self.ledger.set_run_status(run.id, "done", self.clock())
        self._audit(
            "respond.run",
            run.id,
            "ok",
            {
                "playbook": run.playbook,
                "subject": f"{run.subject_kind}:{run.subject_uid}",
                "mode": run.mode,
                "steps": {s: r.status for s, r in rows.items()},
            },
        )
        return "done"

    # -- planning ---------------------------------------------------------------------------
    def _plan(
        self, run: Run, playbook: Playbook, step: Step, subject: Subject, rows: dict[str, StepRow]
    ) -> StepRow:
        spec = ACTIONS.get(step.action)
        row = StepRow(
            run.id,
            step.id,
            step.action,
            spec.impact,
            step_key(run.id, step.id),
            {},
            "",
            "",
            0,
            "",
            None,
        )
        row = self._decide_row(run, playbook, step, subject, rows, row)
        self.ledger.put_step(row, self.clock())
        return row

    def _decide_row(
        self,
        run: Run,
        playbook: Playbook,
        step: Step,
        subject: Subject,
        rows: dict[str, StepRow],
        row: StepRow,
    ) -> StepRow:
        if step.when is not None:
            prior = rows.get(step.when.step)
            wanted = SUCCESS if step.when.outcome == "succeeded" else FAILURE
            if prior is None or prior.status not in wanted:
                seen = "did not run" if prior is None else prior.status
                return replace(row, status="skipped", reason=f"{step.when.step} {seen}")
        kind = playbook.trigger.entity_type[0] if playbook.trigger.entity_type else None
        try:
            params = render_params(step.params, subject, kind)
        except RenderError as exc:
            return replace(row, status="failed", reason=f"parameters: {exc}")
        row = replace(row, params=params)
        spec = ACTIONS.get(step.action)
        limit = self.cfg.rate_of(spec.name, spec.rate_limit)
        recent = self.ledger.recent(
            spec.name, self.clock() - limit[1] * 1000, shadow=run.mode == "shadow"
        )
        decision = decide(spec, step, subject, self.cfg, recent)
        if run.mode == "shadow":
            would = "wait for approval" if decision.verdict == "approval" else decision.verdict
            return replace(row, status="shadow", reason=f"would {would}: {decision.reason}")
        if decision.verdict == "refuse":
            return replace(row, status="refused", reason=decision.reason)
        if decision.verdict == "approval" and run.mode == "live":
            approval = self._request(run, row, decision)
            return replace(row, status="awaiting", reason=decision.reason, approval_id=approval)
        return replace(row, status="planned", reason=decision.reason)

    def _request(self, run: Run, row: StepRow, decision: Decision) -> str:
        now = self.clock()
        approval = ApprovalRow(
            id="ap-" + row.key[3:15],
            run_id=run.id,
            step=row.step,
            key=row.key,
            action=row.action,
            impact=row.impact,
            params=row.params,
            digest=params_digest(row.params),
            quorum=decision.quorum,
            expires_at=None if decision.expires is None else now + decision.expires * 1000,
            fallback=decision.fallback,
            status="pending",
            reason=decision.reason,
            created_at=now,
            decided_at=None,
            escalated_at=None,
        )
        self.ledger.add_approval(approval)
        self._audit(
            "approval.request",
            approval.id,
            "ok",
            {
                "playbook": run.playbook,
                "step": row.step,
                "action": row.action,
                "impact": row.impact,
                "params": row.params,
                "quorum": decision.quorum,
                "why": decision.reason,
            },
        )
        return approval.id

    # -- execution --------------------------------------------------------------------------
    def _execute(self, run: Run, row: StepRow, subject: Subject) -> StepRow:
        if row.status == "executing":
            done = self._recorded(row)
            if done is not None:
                self.ledger.put_step(done, self.clock())
                return done
            row = replace(row, attempts=row.attempts + 1)
            self.ledger.put_step(row, self.clock())
        elif not self.ledger.claim(row.key, self.clock()):
            return self.ledger.steps(run.id)[row.step]
        else:
            row = replace(row, status="executing", attempts=row.attempts + 1)
        live = run.mode == "live"
        refusal = self._unapproved(row) if live else None
        failpoint("respond.before-send")
        if refusal is not None:
            result = Executed(None, refusal, 0)
        else:
            delivery = Delivery(
                row.action, row.params, row.key, run.playbook, row.step, subject.summary()
            )
            result = self.performer(delivery, live)
        failpoint("respond.after-send")
        ok = result.receipt is not None
        status = ("succeeded" if live else "validated") if ok else "failed"
        reference = result.receipt.reference if result.receipt else ""
        reason = (result.receipt.detail if result.receipt else result.error) or row.reason
        self._audit(
            EXECUTE,
            row.key,
            "ok" if ok else "error:failed",
            {
                "playbook": run.playbook,
                "step": row.step,
                "action": row.action,
                "impact": row.impact,
                "mode": run.mode,
                "subject": f"{run.subject_kind}:{run.subject_uid}",
                "params": row.params,
                "approval": row.approval_id,
                "approved_by": self._approvers(row),
                "attempts": result.attempts,
                "reference": reference,
                "reason": reason,
            },
        )
        failpoint("respond.after-audit")
        final = replace(row, status=status, reason=reason, reference=reference)
        self.ledger.put_step(final, self.clock())
        return final

    def _unapproved(self, row: StepRow) -> str | None:
        """Why a live step may not run for want of an approval (None: it may)."""
        if row.impact not in GATED and row.approval_id is None:
            return None
        approval = self.ledger.approval(row.approval_id) if row.approval_id else None
        if approval is None or approval.status != "approved":
            return f"refused: {row.action} is {row.impact} and has no granted approval"
        if approval.digest != params_digest(row.params):
            return "refused: the parameters differ from the approved ones"
        return None

    def _approvers(self, row: StepRow) -> list[str]:
        if row.approval_id is None:
            return []
        return [
            who
            for who, decision, _d, _r in self.ledger.votes(row.approval_id)
            if decision == "approve"
        ]

    def _recorded(self, row: StepRow) -> StepRow | None:
        """The step finished from its audit entry, if the call was already audited."""
        for entry in self.audit.entries(action=EXECUTE):
            if entry.target == row.key:
                info = json.loads(entry.details) if entry.details else {}
                ok = entry.outcome == "ok"
                live = info.get("mode") == "live"
                return replace(
                    row,
                    status=("succeeded" if live else "validated") if ok else "failed",
                    reason=str(info.get("reason", "")),
                    reference=str(info.get("reference", "")),
                )
        return None

    def _audit(self, action: str, target: str, outcome: str, details: dict[str, Any]) -> None:
        self.audit.append(action, target, outcome, details, self.actor)
