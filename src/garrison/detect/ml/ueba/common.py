"""What the UEBA analytics share: options, the ``Hit`` they produce, bursts, confidences.

Hit confidences are tail probabilities under a stated model, not made-up scales (the
detector maps them to P(malicious) with a label-fitted calibration before reporting):
``poisson_confidence`` is ``1 - P(X >= observed)`` for a Poisson count at the baseline rate
(volume analytics), ``novelty_confidence`` is ``1 - P(new value)`` by the Good-Turing
estimate over the user's history (first-seen), and the unusual-hour confidence is
``1 - P(an hour at least this rare)`` under the user's smoothed hour-of-day distribution.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from scipy.stats import poisson

from garrison.detect.ml.ueba.authevents import AuthEvent

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
MODEL_VERSION = "ueba-1.0"

T = TypeVar("T")


@dataclass(slots=True)
class UebaConfig:
    """Options (``[detectors."ml.ueba"]`` in garrison.toml); times in minutes / hours."""

    #: Failures closer than this belong to one burst (brute force, spraying, stuffing).
    burst_gap_minutes: float = 15.0
    bruteforce_min_failures: int = 10
    spray_min_users: int = 5
    #: Spraying tries each account only a few times (mean attempts per account).
    spray_max_attempts_per_user: float = 3.0
    distributed_min_sources: int = 3
    stuffing_min_users: int = 10
    stuffing_min_sources: int = 5
    stuffing_max_success_ratio: float = 0.1
    stuffing_max_attempts_per_user: float = 3.0
    success_after_min_failures: int = 5
    success_after_window_minutes: float = 30.0
    fanout_window_minutes: float = 60.0
    fanout_min_hosts: int = 5
    #: Fan-out must also exceed this multiple of the actor's own busiest hour so far.
    fanout_baseline_factor: float = 2.0
    #: No first-seen / unusual-hour finding until the baseline spans this much time.
    warmup_hours: float = 72.0
    user_min_logons: int = 10
    user_min_days: float = 2.0
    #: An hour is rare below this share of logons (uniform would be 1/24 = 0.042).
    #: A first-seen target host is not reported when at least this share of all known
    #: users (and at least ``popular_host_min_users``) already log on to it: a file
    #: server or domain controller everyone uses is not news.
    popular_host_share: float = 0.1
    popular_host_min_users: int = 10
    hour_rare_user: float = 0.01
    hour_rare_group: float = 0.01
    #: Successful logons a user needs before its hour-of-day profile is trusted.
    hour_min_logons: int = 50
    #: Report an unusual hour only when it is rare for the peer group too.
    unusual_hour_requires_group: bool = True
    #: Machine accounts (``name$``) in the first-seen / unusual-hour analytics.
    include_machine_accounts: bool = False
    #: user -> peer group; users not listed fall in their domain's group.
    peer_groups: dict[str, str] = field(default_factory=dict)
    #: Failure rate assumed for an entity with no history (failures per hour).
    prior_failures_per_hour: float = 1.0
    max_events: int = 2_000_000
    max_evidence: int = 10
    #: Targets of one kind a finding lists in its explanation (the accounts a spray
    #: tried, the hosts a fan-out reached, the sources of a stuffing run); more are
    #: counted and the explanation says the list was capped.
    max_named: int = 50
    #: Of those, how many a finding also names as entities (most attempted first): every
    #: listed target, so each sprayed account lands in the attack's incident. Correlation
    #: neither links through a finding's crowd of targets nor counts it when it looks for
    #: hubs, so naming forty accounts does not make the spraying source a hub. The accounts
    #: that logged on, the source and the target hosts are always named.
    max_named_entities: int = 50
    #: Successful logons from a guessing source, during its burst or within one burst gap
    #: after it, are named in the finding (the accounts the attack took) with up to this
    #: many of their events as evidence.
    max_success_evidence: int = 5
    max_findings_per_analytic: int = 200
    #: Tail confidence -> P(malicious): "" the shipped calibration, "none", or a path.
    calibration: str = ""

    def group_of(self, event: AuthEvent) -> str:
        return self.peer_groups.get(event.user) or event.domain or "default"


@dataclass(slots=True)
class Hit:
    """One analytic result before it becomes a ``Finding``."""

    analytic: str
    title: str
    techniques: list[tuple[str, str | None]]
    time: int
    severity: int
    confidence: float
    events: list[AuthEvent]
    users: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    explanation: dict[str, Any] = field(default_factory=dict)
    #: Every event behind the hit (the evidence list is a sample of it).
    event_count: int = 0


def bursts(items: Sequence[T], gap_ms: float, time_of: Callable[[T], int]) -> Iterable[list[T]]:
    """Maximal runs of time-sorted items whose neighbours are at most ``gap_ms`` apart."""
    current: list[T] = []
    last: int | None = None
    for item in items:
        t = time_of(item)
        if last is not None and t - last > gap_ms:
            yield current
            current = []
        current.append(item)
        last = t
    if current:
        yield current


def poisson_confidence(observed: float, expected: float) -> float:
    """1 - P(X >= observed) for X ~ Poisson(expected); 0 when nothing unusual."""
    if observed <= 0:
        return 0.0
    expected = max(expected, 1e-6)
    return float(1.0 - poisson.sf(observed - 1, expected))


def novelty_confidence(counts: Iterable[int]) -> float:
    """1 - Good-Turing probability that the user's next value is a new one."""
    values = list(counts)
    total = sum(values)
    singletons = sum(1 for c in values if c == 1)
    return 1.0 - (singletons + 1) / (total + 2)


def sample(events: Sequence[AuthEvent], limit: int) -> list[AuthEvent]:
    """First and last events of a list, at most ``limit`` in all, in time order."""
    if len(events) <= limit:
        return list(events)
    head = limit // 2
    return [*events[:head], *events[len(events) - (limit - head) :]]


def capped(items: Sequence[T], limit: int) -> tuple[list[T], bool]:
    """The first ``limit`` items and whether any were left out."""
    return list(items[: max(0, limit)]), len(items) > max(0, limit)


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    mid = len(ordered) // 2
    return float(ordered[mid]) if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
