"""Console sign-in sessions: a random id in an HttpOnly cookie, a row in the home's state.

Stored is the SHA-256 of the session id, never the id itself, so a copy of ``state.db``
does not hand out live sessions; the CSRF token is bound to the session (random, returned
at sign-in, required in the ``X-CSRF-Token`` header of every unsafe request the session
authenticates). A session ends at its expiry, at sign-out, or the moment its user is
disabled (the user is looked up again on every request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from garrison.core.timeutil import now_ms
from garrison.store.state import StateDB

DDL = """
CREATE TABLE IF NOT EXISTS api_sessions (
    digest TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS api_sessions_user ON api_sessions(user);
"""
_TAG = b"garrison-session-v1\x00"
COOKIE = "garrison_session"
CSRF_HEADER = "x-csrf-token"


def _digest(session_id: str) -> str:
    return hashlib.sha256(_TAG + session_id.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    csrf: str
    expires_at: int

    def csrf_ok(self, presented: str | None) -> bool:
        """Constant-time comparison with the token the request carried."""
        return presented is not None and hmac.compare_digest(
            self.csrf.encode("ascii"), presented.encode("utf-8", "replace")
        )


class SessionStore:
    def __init__(self, state: StateDB, ttl_ms: int, clock: Callable[[], int] = now_ms) -> None:
        self.state, self.ttl_ms, self.clock = state, ttl_ms, clock
        state.ensure(DDL)

    def create(self, user: str) -> tuple[str, Session]:
        """A new session for ``user``: (the cookie value, the session)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        session = Session(user, secrets.token_urlsafe(32), now + self.ttl_ms)
        with self.state.transaction() as conn:
            conn.execute("DELETE FROM api_sessions WHERE expires_at <= ?", (now,))
            conn.execute(
                "INSERT INTO api_sessions VALUES (?, ?, ?, ?, ?)",
                (_digest(session_id), user, session.csrf, now, session.expires_at),
            )
        return session_id, session

    def get(self, session_id: str) -> Session | None:
        """The live session of a cookie value; ``None`` when unknown or expired."""
        if not session_id or len(session_id) > 128:
            return None
        rows = self.state.query(
            "SELECT user, csrf, expires_at FROM api_sessions WHERE digest = ?",
            (_digest(session_id),),
        )
        if not rows or self.clock() >= int(str(rows[0][2])):
            return None
        return Session(str(rows[0][0]), str(rows[0][1]), int(str(rows[0][2])))

    def delete(self, session_id: str) -> None:
        self.state.execute("DELETE FROM api_sessions WHERE digest = ?", (_digest(session_id),))
