"""``/api/users`` and ``/api/tokens``: the admin's routes (``users.manage``): list users,
issue a token (its secret is in this one response only), list and revoke tokens."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from garrison.core.timeutil import now_ms
from garrison.govern.access import ROLES
from garrison.interfaces.api.deps import Who, context, route
from garrison.interfaces.api.schemas import Body

router = APIRouter(tags=["users"])
Role = Literal["viewer", "analyst", "responder", "admin", "model-owner"]
if set(ROLES) != set(Role.__args__):  # type: ignore[attr-defined]
    raise RuntimeError("the users routes' Role literal differs from govern.access.ROLES")
NAME = r"^[a-z_][a-z0-9_.-]{0,31}$"


@route(router, "GET", "/api/users", "users.manage")
def list_users(request: Request, who: Who) -> list[dict[str, Any]]:
    return [u.to_json() for u in context(request).users(who).list_users()]


class IssueIn(Body):
    user: str = Field(pattern=NAME)
    role: Role
    ttl: str = Field("30d", pattern=r"^[1-9][0-9]{0,5}[mhdw]$", description="e.g. 12h, 30d")


@route(router, "POST", "/api/tokens", "users.manage", status_code=201)
def issue(body: IssueIn, request: Request, who: Who) -> dict[str, Any]:
    issued = context(request).users(who).issue_token(body.user, body.role, body.ttl)
    return {
        "id": issued.id,
        "user": issued.user,
        "role": issued.role,
        "expires_at": issued.expires_at,
        "token": issued.secret,
    }


@route(router, "GET", "/api/tokens", "users.manage")
def list_tokens(
    *,
    request: Request,
    user: str | None = Query(None, pattern=NAME),
    who: Who,
) -> list[dict[str, Any]]:
    now = now_ms()
    return [t.to_json(now) for t in context(request).users(who).list_tokens(user)]


@route(router, "DELETE", "/api/tokens/{token_id}", "users.manage")
def revoke(token_id: str, request: Request, who: Who) -> dict[str, Any]:
    return context(request).users(who).revoke_token(token_id).to_json(now_ms())
