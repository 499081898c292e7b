"""``/api/session``: console sign-in with a user name and password (argon2id), who am I,
sign-out. The cookie is HttpOnly, SameSite=Strict and Secure (unless the server is bound
to loopback over plain http, see ``[serve] secure_cookies``); the CSRF token returned here
must accompany every unsafe request the session authenticates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import Field

from garrison.core.errors import Unauthenticated
from garrison.govern.access import BAD_LOGIN, ROLES, Principal
from garrison.govern.access.sessions import COOKIE
from garrison.govern.access.throttle import sign_in
from garrison.interfaces.api.deps import Who, context, route
from garrison.interfaces.api.schemas import ERRORS, Body

router = APIRouter(tags=["session"])


class LoginIn(Body):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


def _me(who: Principal) -> dict[str, Any]:
    return {"name": who.name, "roles": [r for r in ROLES if r in who.roles], "via": who.via}


@router.post("/api/session", responses=ERRORS)
def login(body: LoginIn, request: Request, response: Response) -> dict[str, Any]:
    """Sign in; an empty home (no user yet) refuses everyone."""
    ctx = context(request)
    users = ctx.users()
    if not users.has_users():
        raise Unauthenticated(BAD_LOGIN)
    client = request.client.host if request.client else "unknown"
    who = sign_in(users, ctx.throttle, body.name, body.password, client)
    session_id, session = ctx.sessions.create(who.name)
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=ctx.serve.session_ttl_ms // 1000,
        httponly=True,
        samesite="strict",
        secure=ctx.serve.cookies_secure(),
        path="/",
    )
    return {**_me(who), "csrf_token": session.csrf, "expires_at": session.expires_at}


@route(router, "GET", "/api/session", None)
def whoami(who: Who) -> dict[str, Any]:
    return _me(who)


@route(router, "DELETE", "/api/session", None)
def logout(request: Request, response: Response) -> dict[str, str]:
    """End the session of the cookie (a token caller has none: nothing to end)."""
    session_id = request.cookies.get(COOKIE)
    if session_id:
        context(request).sessions.delete(session_id)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return {"status": "signed out"}
