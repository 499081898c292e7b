"""Per-client rate limits (token buckets) and daily quotas, counted in scored lines.

A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens a second; a request of
``n`` lines takes ``n`` tokens or is refused whole (a request is never half-answered), with
the seconds until it would fit. Buckets live in the process's memory (the API server is one
process), bounded in number; the daily quota is counted in the query log, so it holds across
processes and restarts (``garrison score`` runs are processes of their own).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from garrison.core.errors import TooManyRequests
from garrison.core.timeutil import now_ms

#: Buckets kept at most (least recently used dropped first): bounded memory.
MAX_CLIENTS = 100_000
DAY_MS = 86_400_000


class RateLimited(TooManyRequests):
    """A client sent more lines than its bucket holds now (or ever: ``n > burst``)."""


class QuotaExceeded(TooManyRequests):
    """A client used its lines for the day (UTC)."""


class Blocked(TooManyRequests):
    """A client flagged for model extraction under ``on_flag = "block"``."""


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: int


class Buckets:
    """One token bucket per client; ``take`` raises ``RateLimited`` with the wait."""

    def __init__(self, clock: Callable[[], int] = now_ms) -> None:
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str, n: int, rate: float, burst: int) -> None:
        if n > burst:
            raise RateLimited(
                f"{n} lines in one request is more than this client's burst of {burst}: "
                "send fewer lines per request",
                retry_after=math.ceil(n / rate),
            )
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                bucket = self._buckets[client] = _Bucket(float(burst), now)
            self._buckets.move_to_end(client)
            elapsed = max(0, now - bucket.stamp) / 1000.0
            bucket.tokens = min(float(burst), bucket.tokens + elapsed * rate)
            bucket.stamp = now
            if bucket.tokens + 1e-9 < n:
                wait = math.ceil((n - bucket.tokens) / rate)
                raise RateLimited(
                    f"rate limit: {n} lines asked, {int(bucket.tokens)} available "
                    f"(refills at {rate:g} lines/s); retry in {wait} s",
                    retry_after=wait,
                )
            bucket.tokens -= n
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)


def day_of(ms: int) -> int:
    """The UTC day number of a time in ms (days since the epoch)."""
    return ms // DAY_MS


def check_quota(used: int, n: int, quota: int, now: int) -> None:
    """Refuse ``n`` more lines when ``used + n`` would pass ``quota`` for the day."""
    if used + n > quota:
        left = max(0, quota - used)
        wait = (day_of(now) + 1) * DAY_MS - now
        raise QuotaExceeded(
            f"daily quota: {used} of {quota} lines used today (UTC), {left} left, "
            f"{n} asked; the quota resets at 00:00 UTC",
            retry_after=math.ceil(wait / 1000),
        )
