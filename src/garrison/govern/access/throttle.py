"""Sign-in throttling: a password guesser is slowed down before argon2 and the audit log
pay for every guess.

Each failed sign-in counts against the client's address and against the name tried; once
either has ``limit`` failures inside ``window_ms``, sign-ins for it are refused (429, with
the seconds left) without checking the password, until the oldest failure leaves the
window. A success clears its name. One audit entry marks each key's start of a block, not
every refused attempt, so a flood cannot flood the log. The counters live in the server's
memory (one process), bounded in size: a restart forgets them, which only gives a guesser
another ``limit`` tries.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable

from garrison.core.errors import TooManyRequests, Unauthenticated
from garrison.core.timeutil import now_ms
from garrison.govern.access.policy import Principal
from garrison.govern.access.store import UserStore

#: Keys kept at most (oldest dropped first): bounded memory under a spray of names.
MAX_KEYS = 50_000
BLOCKED = "too many failed sign-ins; try again later"


class LoginThrottle:
    def __init__(
        self,
        limit: int = 5,
        window_ms: int = 15 * 60_000,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.limit, self.window_ms, self.clock = limit, window_ms, clock
        self._failures: OrderedDict[str, deque[int]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_ms(self, keys: list[str]) -> int:
        """Milliseconds until every key may try again (0: now)."""
        now = self.clock()
        with self._lock:
            return max((self._wait(key, now) for key in keys), default=0)

    def _wait(self, key: str, now: int) -> int:
        times = self._failures.get(key)
        if not times:
            return 0
        while times and times[0] <= now - self.window_ms:
            times.popleft()
        if len(times) < self.limit:
            return 0
        return times[0] + self.window_ms - now

    def failed(self, keys: list[str]) -> list[str]:
        """Count a failure; the keys this failure blocked (at the limit just now)."""
        now = self.clock()
        started = []
        with self._lock:
            for key in keys:
                times = self._failures.setdefault(key, deque())
                self._failures.move_to_end(key)
                times.append(now)
                while times and times[0] <= now - self.window_ms:
                    times.popleft()
                if len(times) == self.limit:
                    started.append(key)
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)
        return started

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


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
