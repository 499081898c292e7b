"""Human decisions on queued actions: approve (optionally with edited parameters), reject
with a reason, and what happens when nobody answers in time.

* A quorum counts distinct identities whose approval names the *current* parameters: an
  edit changes the parameters' digest, so approvals given to the earlier version no longer
  count towards it (an approver never approves what they did not see).
* One rejection rejects (a veto), and needs a reason.
* An approval past its expiry falls back: ``reject`` ends it as ``expired`` (the step
  counts as failed), ``escalate`` keeps it open, flags it, tells the ``escalate_to``
  connector, once.

Every decision is audited before the run moves on, so an action that a crash left
between its approval and its execution is still explained by the log.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from garrison.core.errors import Conflict, NotFound, UsageError
from garrison.core.failpoints import failpoint
from garrison.core.text import visible
from garrison.respond.actions import ACTIONS
from garrison.respond.connectors.base import Delivery
from garrison.respond.engine import Engine, params_digest
from garrison.respond.ledger import ApprovalRow

#: The permission an identity needs to approve or reject (``govern.access``).
DECIDE = "approvals.decide"
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class Vote:
    identity: str
    decision: str
    current: bool  # given to the current parameters
    reason: str


class Approvals:
    def __init__(self, engine: Engine, authorize: Callable[[str], None]) -> None:
        self.engine = engine
        self.ledger = engine.ledger
        self.authorize = authorize

    @property
    def identity(self) -> str:
        from garrison.govern.audit.log import current_actor

        return self.engine.actor or current_actor()

    # -- reading ----------------------------------------------------------------------------
    def get(self, approval_id: str) -> ApprovalRow:
        row = self.ledger.approval(approval_id.strip())
        if row is None:
            raise NotFound(f"no approval {visible(approval_id, 40)!r}")
        return row

    def votes(self, row: ApprovalRow) -> list[Vote]:
        return [
            Vote(who, decision, digest == row.digest, reason)
            for who, decision, digest, reason in self.ledger.votes(row.id)
        ]

    # -- decisions --------------------------------------------------------------------------
    def approve(self, approval_id: str, edits: Mapping[str, str] | None = None) -> ApprovalRow:
        self.authorize(DECIDE)
        self.expire_due()
        row = self._pending(approval_id)
        params = self._edited(row, edits or {})
        digest = params_digest(params)
        if digest != row.digest:
            self.ledger.update_approval(row.id, params=params, digest=digest)
            self._set_step_params(row, params)
        if not self.ledger.add_vote(row.id, self.identity, "approve", digest, "", self._now()):
            raise UsageError(f"{self.identity} has already decided on approval {row.id}")
        count = sum(1 for v in self.ledger.votes(row.id) if v[1] == "approve" and v[2] == digest)
        granted = count >= row.quorum
        details = {
            "action": row.action,
            "params": params,
            "edits": dict(edits or {}),
            "votes": count,
            "quorum": row.quorum,
            "granted": granted,
        }
        self.engine.audit.append("approval.approve", row.id, "ok", details, self.engine.actor)
        if granted:
            self.ledger.update_approval(row.id, status="approved", decided_at=self._now())
            self._set_step(row, "approved", f"approved by {count} of quorum {row.quorum}")
            failpoint("respond.after-approval")
            self._resume(row)
        return self.get(row.id)

    def reject(self, approval_id: str, reason: str) -> ApprovalRow:
        self.authorize(DECIDE)
        reason = visible(reason.strip(), MAX_REASON)
        if not reason:
            raise UsageError("a rejection needs a reason (--reason TEXT)")
        self.expire_due()
        row = self._pending(approval_id)
        if not self.ledger.add_vote(
            row.id, self.identity, "reject", row.digest, reason, self._now()
        ):
            raise UsageError(f"{self.identity} has already decided on approval {row.id}")
        self.ledger.update_approval(
            row.id, status="rejected", reason=reason, decided_at=self._now()
        )
        self.engine.audit.append(
            "approval.reject",
            row.id,
            "ok",
            {"action": row.action, "reason": reason},
            self.engine.actor,
        )
        self._set_step(row, "rejected", f"rejected by {self.identity}: {reason}")
        self._resume(row)
        return self.get(row.id)

    def expire_due(self) -> list[ApprovalRow]:
        """Apply the fallback of every pending approval past its expiry; those it changed."""
        now = self._now()
        changed = []
        for row in self.ledger.approvals("pending"):
            if row.expires_at is None or row.expires_at > now:
                continue
            if row.fallback == "escalate":
                if row.escalated_at is None:
                    self._escalate(row, now)
                    changed.append(row)
                continue
            self.ledger.update_approval(row.id, status="expired", decided_at=now)
            self.engine.audit.append(
                "approval.expire",
                row.id,
                "ok",
                {"action": row.action, "fallback": "reject"},
                self.engine.actor,
            )
            self._set_step(row, "expired", "no decision before the approval expired")
            self._resume(row)
            changed.append(row)
        return changed

    # -- helpers ----------------------------------------------------------------------------
    def _pending(self, approval_id: str) -> ApprovalRow:
        row = self.get(approval_id)
        if row.status != "pending":
            raise Conflict(f"approval {row.id} is {row.status}, not pending")
        return row

    def _edited(self, row: ApprovalRow, edits: Mapping[str, str]) -> dict[str, object]:
        spec = ACTIONS.get(row.action)
        known = (*spec.required, *spec.optional)
        params: dict[str, object] = dict(row.params)
        for key, value in edits.items():
            if key not in known:
                named = visible(key, 40)
                raise UsageError(
                    f"{row.action} has no parameter {named!r} (known: {', '.join(known)})"
                )
            if key in spec.required and not value.strip():
                raise UsageError(f"{row.action} needs a value for {key}")
            params[key] = visible(value, 512)
        return params

    def _escalate(self, row: ApprovalRow, now: int) -> None:
        self.ledger.update_approval(row.id, escalated_at=now)
        target = self.engine.cfg.escalate_to
        told = "no escalate_to connector configured"
        if target:
            delivery = Delivery(
                "notify.webhook",
                {"connector": target, "message": f"approval {row.id} ({row.action}) escalated"},
                key=f"{row.key}-escalation",
                step=row.step,
            )
            result = self.engine.performer(delivery, True)
            told = f"sent to {target}" if result.receipt else f"failed: {result.error}"
        self.engine.audit.append(
            "approval.escalate",
            row.id,
            "ok",
            {"action": row.action, "notified": told},
            self.engine.actor,
        )

    def _set_step(self, row: ApprovalRow, status: str, reason: str) -> None:
        step = self.ledger.steps(row.run_id)[row.step]
        self.ledger.put_step(replace(step, status=status, reason=reason), self._now())

    def _set_step_params(self, row: ApprovalRow, params: dict[str, object]) -> None:
        step = self.ledger.steps(row.run_id)[row.step]
        self.ledger.put_step(replace(step, params=params), self._now())

    def _resume(self, row: ApprovalRow) -> None:
        run = self.ledger.run(row.run_id)
        if run is not None:
            self.engine.advance(run)

    def _now(self) -> int:
        return self.engine.clock()
