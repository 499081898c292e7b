"""The guard every request passes first (an ASGI middleware, outermost):

1. security headers on every response (a strict CSP, no framing, no sniffing, ``no-store``);
2. authentication before routing: a ``Bearer gar_...`` token, or the session cookie (then
   an unsafe method must carry the session's CSRF token in ``X-CSRF-Token``); only
   ``GET /healthz`` and the sign-in itself (``POST /api/session``) need none, so an
   unauthenticated caller learns nothing, not even which paths exist (401 everywhere);
3. the body: at most ``[serve] max_body`` bytes (413), JSON only (415); an upload route
   (``RAW_BODIES``) takes ``[serve] max_ingest`` bytes of the types in ``RAW_TYPES``;
4. one JSON log line per request (method, route template, status, duration, principal
   name: never a header, a cookie, a query string or a body) and the Prometheus figures;
5. anything unexpected below becomes a bare 500 here, logged with its traceback, never sent.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from anyio import to_thread

from garrison.core.errors import AccessDenied, GarrisonError, Unauthenticated
from garrison.govern.access import Principal
from garrison.govern.access.sessions import COOKIE, CSRF_HEADER
from garrison.interfaces.api.deps import PRINCIPAL_SCOPE, Context
from garrison.interfaces.api.errors import error, status_of
from garrison.interfaces.api.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("garrison.api.access")
log = logging.getLogger("garrison.api")

SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
PUBLIC = {("GET", "/healthz"), ("POST", "/api/session")}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: Routes whose body is a file (an upload), not a JSON document: their own size limit
#: (``[serve] max_ingest``) and content types (``routes.ingest.TYPES``).
RAW_BODIES = {("POST", "/api/ingest")}
RAW_TYPES = ("application/x-ndjson", "application/json", "text/plain", "application/octet-stream")


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


class Guard:
    def __init__(self, app: ASGIApp, ctx: Context, metrics: Metrics) -> None:
        self.app, self.ctx, self.metrics = app, ctx, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            replay = await self._admit(scope, receive)
            await self.app(scope, replay, send_secured)
        except Refused as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            await error(exc.status, exc.message, headers)(scope, receive, send_secured)
        except GarrisonError as exc:  # the state failing under authentication (503)
            if not status["sent"]:
                await error(status_of(exc), str(exc))(scope, receive, send_secured)
        except Exception:
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            if not status["sent"]:
                await error(500, "internal error (logged on the server)")(
                    scope, receive, send_secured
                )
        finally:
            self._record(scope, int(status["code"]), time.perf_counter() - started)

    # -- admission ------------------------------------------------------------------------
    async def _admit(self, scope: Scope, receive: Receive) -> Receive:
        headers = _headers(scope)
        method = scope["method"]
        if (method, scope["path"]) not in PUBLIC:
            who = await to_thread.run_sync(self._authenticate, headers, method)
            scope[PRINCIPAL_SCOPE] = who
        if method not in BODY_METHODS:
            return receive
        raw = (method, scope["path"]) in RAW_BODIES
        limit = self.ctx.serve.max_ingest if raw else self.ctx.serve.max_body
        body = await self._body(headers, receive, limit)
        kind = headers.get("content-type", "").split(";")[0].strip()
        if raw and kind not in RAW_TYPES:
            raise Refused(415, f"an upload's Content-Type must be one of {', '.join(RAW_TYPES)}")
        if body and not raw and kind != "application/json":
            raise Refused(415, "request bodies must be JSON (Content-Type: application/json)")
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay

    async def _body(self, headers: dict[str, str], receive: Receive, limit: int) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise Refused(413, f"request body larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Refused(400, "client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise Refused(413, f"request body larger than {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _authenticate(self, headers: dict[str, str], method: str) -> Principal:
        """The principal of the request's token or session, or ``Refused``."""
        users = self.ctx.users()
        auth = headers.get("authorization")
        if auth is not None:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Refused(401, "use Authorization: Bearer gar_...")
            try:
                return users.authenticate_token(token.strip())
            except Unauthenticated as exc:
                raise Refused(401, str(exc)) from None
        session_id = _cookie(headers.get("cookie", ""), COOKIE)
        session = self.ctx.sessions.get(session_id) if session_id else None
        if session is None:
            raise Refused(401, "authentication required: a Bearer token or a session")
        try:
            who = users.principal_for(session.user, "session")
        except AccessDenied:
            raise Refused(401, "the session's user is disabled or gone") from None
        if method not in SAFE_METHODS and not session.csrf_ok(headers.get(CSRF_HEADER)):
            raise Refused(403, "missing or wrong X-CSRF-Token for this session")
        return who

    # -- records --------------------------------------------------------------------------
    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        who = scope.get(PRINCIPAL_SCOPE)
        self.metrics.observe(scope["method"], route, status, seconds)
        access_log.info(
            json.dumps(
                {
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "ms": round(seconds * 1000, 2),
                    "principal": who.name if isinstance(who, Principal) else None,
                    "via": who.via if isinstance(who, Principal) else None,
                },
                ensure_ascii=True,
            )
        )
