"""The serving guard: who may score how much, what they see, what is logged, and whether
their stream looks like someone copying the model.

    guard = ServingGuard(config, QueryLog.open(home), sink=raise_finding)
    guard.register(FeatureSpace...)                  # per model, for the extraction test
    limits = guard.admit(client, "dga", len(lines))  # raises TooManyRequests (429)
    ... score ...
    guard.record(client, "dga", queries)             # log, test, flag -> finding
    shown = guard.coarsen(client, "dga", results, limits)

Pure of HTTP and of the models: the caller scores, and hands each line's label, score and
feature vector. One guard per home and process (its buckets and stream monitors are memory;
the log, the quotas and the flags are in the home and survive a restart).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from garrison.core.findings import Finding
from garrison.core.timeutil import now_ms
from garrison.govern.serving.coarsen import coarsen
from garrison.govern.serving.config import GuardConfig, Limits
from garrison.govern.serving.extraction import FeatureSpace, StreamMonitor, Verdict
from garrison.govern.serving.findings import extraction_finding
from garrison.govern.serving.limits import Blocked, Buckets, check_quota, day_of
from garrison.govern.serving.querylog import Flag, Query, QueryLog

log = logging.getLogger(__name__)
#: Stream monitors kept at most (least recently used dropped; rebuilt from the log).
MAX_MONITORS = 20_000


@dataclass(frozen=True, slots=True)
class Client:
    """Who is scoring: the API principal's name and roles, or the OS account
    (``local``: the command line)."""

    name: str
    roles: frozenset[str] = frozenset()
    local: bool = False


class ServingGuard:
    def __init__(
        self,
        config: GuardConfig,
        log: QueryLog,
        sink: Callable[[Finding], None] | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.config, self.log, self.sink, self.clock = config, log, sink, clock
        self.buckets = Buckets(clock)
        self.spaces: dict[str, FeatureSpace] = {}
        self._monitors: OrderedDict[tuple[str, str], StreamMonitor] = OrderedDict()
        self._flagged: dict[str, set[str]] | None = None
        #: Lines admitted but not yet logged, per (client, day): counted against the quota.
        self._pending: dict[tuple[str, int], int] = {}
        self._lock = threading.RLock()

    def register(self, model: str, space: FeatureSpace) -> None:
        """The feature space ``model``'s queries are tested in (unregistered: not tested)."""
        self.spaces[model] = space

    # -- before scoring ----------------------------------------------------------------
    def limits(self, client: Client, model: str) -> Limits:
        limits = self.config.limits_for(client.name, client.roles)
        if client.local and not self.config.local_limits:
            return replace(limits, coarsen="full")
        if model in self.flagged(client.name):
            action = self.config.extraction.on_flag
            if action == "coarsen":
                limits = replace(limits, coarsen="label")
            elif action == "throttle":
                factor = self.config.extraction.throttle_factor
                limits = replace(
                    limits, rate=limits.rate / factor, burst=max(1, int(limits.burst / factor))
                )
        return limits

    def admit(self, client: Client, model: str, n: int) -> Limits:
        """Let ``n`` lines of ``client`` through, or raise ``TooManyRequests`` (a
        ``Blocked``, ``QuotaExceeded`` or ``RateLimited``) saying why and for how long."""
        limits = self.limits(client, model)
        if not self.config.enabled or (client.local and not self.config.local_limits):
            return limits
        if self.config.extraction.on_flag == "block" and model in self.flagged(client.name):
            raise Blocked(
                f"client {client.name!r} is blocked from the {model} model: its queries "
                "looked like model extraction (ask an administrator)",
                retry_after=86_400,
            )
        now = self.clock()
        key = (client.name, day_of(now))
        with self._lock:  # admitted lines count before they are logged: no double spend
            used = self.log.used(*key) + self._pending.get(key, 0)
            check_quota(used, n, limits.daily_quota, now)
            self.buckets.take(client.name, n, limits.rate, limits.burst)
            self._pending[key] = self._pending.get(key, 0) + n
        return limits

    # -- after scoring -----------------------------------------------------------------
    def record(self, client: Client, model: str, queries: Sequence[Query]) -> Verdict | None:
        """Log ``queries`` and test the client's stream; a newly flagged client raises a
        finding through the sink. The verdict (None: the model is not tested)."""
        if not self.config.enabled:
            return None
        now = self.clock()
        with self._lock:
            first = self.log.append(client.name, model, now, day_of(now), queries)
            key = (client.name, day_of(now))
            left = self._pending.get(key, 0) - len(queries)
            if left > 0:
                self._pending[key] = left
            else:
                self._pending.pop(key, None)
            space = self.spaces.get(model)
            tested_models = self.config.extraction.models
            if space is None or not self.config.extraction.enabled or model not in tested_models:
                return None
            tested = [(i, q) for i, q in enumerate(queries) if q.vector is not None]
            monitor = self._monitor(client.name, model, space, skip=len(tested))
            if not tested:
                return monitor.verdict()
            vectors = np.stack([np.asarray(q.vector, np.float32) for _, q in tested])
            verdict = monitor.add([q.label for _, q in tested], vectors)
            if verdict.flagged and model not in self.flagged(client.name):
                self._flag(client.name, model, verdict, now, first + tested[-1][0])
        return verdict

    @staticmethod
    def coarsen(results: Sequence[dict[str, Any]], limits: Limits) -> list[dict[str, Any]]:
        """``results`` as the client may see them (``limits`` from ``admit``: the client's
        coarsening, made labels-only by a flag under ``on_flag = "coarsen"``)."""
        return [coarsen(r, limits.coarsen, limits.decimals) for r in results]

    # -- flags ---------------------------------------------------------------------------
    def flagged(self, client: str) -> set[str]:
        """The models ``client`` has been flagged on (read from the log once)."""
        with self._lock:
            if self._flagged is None:
                self._flagged = {}
                for flag in self.log.flags():
                    self._flagged.setdefault(flag.client, set()).add(flag.model)
            return self._flagged.get(client, set())

    def _flag(self, client: str, model: str, verdict: Verdict, now: int, seq: int) -> None:
        action = self.config.extraction.on_flag
        finding = extraction_finding(client, model, verdict, now, seq, action)
        self.log.flag(Flag(now, client, model, finding.uid, "; ".join(verdict.reasons)))
        self.flagged(client)
        assert self._flagged is not None  # noqa: S101 - flagged() just loaded it
        self._flagged.setdefault(client, set()).add(model)
        if self.sink is not None:
            try:
                self.sink(finding)
            except Exception:  # the flag row is kept: the answer must not fail with it
                log.exception("guard: the finding for %r on %s was not stored", client, model)

    def _monitor(self, client: str, model: str, space: FeatureSpace, skip: int) -> StreamMonitor:
        key = (client, model)
        monitor = self._monitors.get(key)
        if monitor is None:
            monitor = StreamMonitor(self.config.extraction, space)
            cap = self.config.extraction.max_history
            past = self.log.history(client, model, cap + skip)
            past = past[: max(0, len(past) - skip)]  # the rows just logged are fed by the caller
            if past:
                monitor.add([label for label, _ in past], np.stack([v for _, v in past]))
            self._monitors[key] = monitor
        self._monitors.move_to_end(key)
        while len(self._monitors) > MAX_MONITORS:
            self._monitors.popitem(last=False)
        return monitor
