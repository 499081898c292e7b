"""``/api/approvals``: actions waiting for a human; approve (optionally with edited
parameters) or reject with a reason. Deciding needs ``approvals.decide`` (responder)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from garrison.core.timeutil import iso
from garrison.interfaces.api.deps import Respond, route
from garrison.interfaces.api.schemas import Body

router = APIRouter(tags=["approvals"])


def _approval(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "action": row.action,
        "impact": row.impact,
        "params": row.params,
        "reason": row.reason,
        "quorum": row.quorum,
        "expires_at": row.expires_at,
        "expires": iso(row.expires_at) if row.expires_at else None,
        "fallback": row.fallback,
        "created_at": row.created_at,
        "decided_at": row.decided_at,
    }


def _view(view: Any) -> dict[str, Any]:
    votes = [
        {"identity": v.identity, "decision": v.decision, "current": v.current, "reason": v.reason}
        for v in view.votes
    ]
    return {
        **_approval(view.approval),
        "votes": votes,
        "playbook": view.playbook,
        "subject": view.subject,
    }


@route(router, "GET", "/api/approvals", "approvals.read")
def list_approvals(*, every: bool = False, service: Respond) -> list[dict[str, Any]]:
    """Pending approvals (``every=true``: decided ones too)."""
    return [_view(v) for v in service.list_approvals(None if every else "pending")]


class ApproveIn(Body):
    edits: dict[str, str] = Field(
        default_factory=dict, max_length=50, description="parameters to change first"
    )


@route(router, "POST", "/api/approvals/{approval_id}/approve", "approvals.decide")
def approve(approval_id: str, body: ApproveIn, service: Respond) -> dict[str, Any]:
    return _approval(service.approve(approval_id, body.edits or None))


class RejectIn(Body):
    reason: str = Field(min_length=1, max_length=500)


@route(router, "POST", "/api/approvals/{approval_id}/reject", "approvals.decide")
def reject(approval_id: str, body: RejectIn, service: Respond) -> dict[str, Any]:
    return _approval(service.reject(approval_id, body.reason))
