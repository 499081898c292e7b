"""Sign-in throttling: a password guesser is slowed down before argon2 and the audit log
pay for every guess.

Each failed sign-in counts against the client's address and against the name tried; once
either has ``limit`` failures inside ``window_ms``, sign-ins for it are refused (429, with
the seconds left) without checking the password, until the oldest failure leaves the
window. A success clears its name. One audit entry marks each key's start of a block, not
every refused attempt, so a flood cannot flood the log.

The failures live in the home's state (table ``access_signin_failures``), not in one
process's memory: ``garrison serve`` may run several worker processes, and counters per
process would give a guesser ``limit`` tries per worker; a restart forgets nothing either.
The number of keys is bounded (the least recently failed dropped first), so a spray of
made-up names cannot grow the table without end.
"""

from __future__ import annotations

from collections.abc import Callable

from garrison.core.errors import TooManyRequests, Unauthenticated
from garrison.core.timeutil import now_ms
from garrison.govern.access.policy import Principal
from garrison.govern.access.store import UserStore
from garrison.store.state import StateDB

#: Keys kept at most (least recently failed dropped first): bounded under a spray of names.
MAX_KEYS = 50_000
BLOCKED = "too many failed sign-ins; try again later"

DDL = """
CREATE TABLE IF NOT EXISTS access_signin_failures (
    key TEXT NOT NULL,
    time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS access_signin_failures_key ON access_signin_failures(key, time);
CREATE INDEX IF NOT EXISTS access_signin_failures_time ON access_signin_failures(time);
"""


class LoginThrottle:
    def __init__(
        self,
        state: StateDB,
        limit: int = 5,
        window_ms: int = 15 * 60_000,
        clock: Callable[[], int] = now_ms,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.state, self.limit, self.window_ms, self.clock = state, limit, window_ms, clock
        self.max_keys = max_keys
        state.ensure(DDL)

    def wait_ms(self, keys: list[str]) -> int:
        """Milliseconds until every key may try again (0: now)."""
        now = self.clock()
        return max((self._wait(key, now) for key in keys), default=0)

    def _wait(self, key: str, now: int) -> int:
        rows = self.state.query(
            "SELECT time FROM access_signin_failures WHERE key = ? AND time > ?"
            " ORDER BY time DESC LIMIT ?",
            (key, now - self.window_ms, self.limit),
        )
        if len(rows) < self.limit:
            return 0
        oldest_counted = min(int(str(r[0])) for r in rows)
        return max(0, oldest_counted + self.window_ms - now)

    def failed(self, keys: list[str]) -> list[str]:
        """Count a failure; the keys this failure blocked (at the limit just now)."""
        now = self.clock()
        started = []
        with self.state.transaction() as conn:
            conn.execute("DELETE FROM access_signin_failures WHERE time <= ?",
                         (now - self.window_ms,))  # fmt: skip
            for key in keys:
                conn.execute("INSERT INTO access_signin_failures VALUES (?, ?)", (key, now))
                (count,) = conn.execute(
                    "SELECT count(*) FROM access_signin_failures WHERE key = ?", (key,)
                ).fetchone()
                if count == self.limit:
                    started.append(key)
            self._bound(conn)
        return started

    def _bound(self, conn: object) -> None:
        execute = conn.execute  # type: ignore[attr-defined]
        (keys,) = execute("SELECT count(DISTINCT key) FROM access_signin_failures").fetchone()
        if keys > self.max_keys:
            execute(
                "DELETE FROM access_signin_failures WHERE key IN (SELECT key FROM"
                " access_signin_failures GROUP BY key ORDER BY max(time), key LIMIT ?)",
                (keys - self.max_keys,),
            )

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self.state.execute("DELETE FROM access_signin_failures WHERE key = ?", (key,))

    def keys(self) -> int:
        """How many keys have failures on record (bounded by ``max_keys``)."""
        rows = self.state.query("SELECT count(DISTINCT key) FROM access_signin_failures")
        return int(str(rows[0][0]))


def sign_in(
    users: UserStore, throttle: LoginThrottle, name: str, password: str, client: str
) -> Principal:
    """The principal of a correct name and password, unless the client or the name is
    throttled (``TooManyRequests``); a wrong one is ``Unauthenticated`` as always."""
    keys = [f"client:{client}", f"name:{name.strip().lower()[:64]}"]
    wait = throttle.wait_ms(keys)
    if wait > 0:
        raise TooManyRequests(BLOCKED, retry_after=(wait + 999) // 1000)
    try:
        principal = users.verify_password(name, password)
    except Unauthenticated:
        for key in throttle.failed(keys):
            kind, _, value = key.partition(":")
            target = value if kind == "client" else "a user name"  # names may be guesses
            users.audit.append(
                "auth.throttle", target, "ok", {"by": kind, "limit": throttle.limit}, "anonymous"
            )
        raise
    throttle.succeeded(keys[1:])
    return principal
