"""Baseline analytics -- first-seen source/host and unusual hour -- and the learning pass.

Events are walked in time order; each success is first checked against the baseline *as
it stands at that moment*, then learnt into it. So the first run learns as it goes.

Warm-up (why a cold start does not flood): nothing is reported until

* the baseline as a whole spans ``warmup_hours`` of event time (72 h by default, counted
  across runs: a first run over three days of logs starts reporting on day four), and
* the user has ``user_min_logons`` successful logons spread over ``user_min_days``
  (and ``hour_min_logons`` before its hour-of-day profile is used).

A first-seen target host that many users already use (``popular_host_share``) is not
reported: peer prevalence, the usual way to keep file servers and domain controllers quiet.

Machine accounts are left out unless ``include_machine_accounts``. Results are grouped per
user, kind and UTC day: one finding lists that day's new sources, another its unusual
logon times. Hours are UTC; a user's hour histogram is smoothed over neighbouring hours
(0.25 / 0.5 / 0.25) with a small uniform prior, so 08:00 is not rare for someone who always
logs on at 09:00.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from garrison.core.findings import SEVERITY_LOW, SEVERITY_MEDIUM
from garrison.core.timeutil import iso
from garrison.detect.ml.ueba.authevents import FAILURE, SUCCESS, AuthEvent
from garrison.detect.ml.ueba.baseline import Baseline, UserProfile, network_of
from garrison.detect.ml.ueba.common import (
    DAY_MS,
    HOUR_MS,
    Hit,
    UebaConfig,
    novelty_confidence,
    sample,
)

_KIND_TEXT = {
    "src_net": "source network",
    "src_host": "source workstation",
    "dst_host": "target host",
}


@dataclass(slots=True)
class _Group:
    events: list[AuthEvent] = field(default_factory=list)
    values: dict[str, AuthEvent] = field(default_factory=dict)
    known: int = 0
    confidence: float = 0.0
    user_p: float = 1.0
    group_p: float = 1.0


def hour_distribution(hours: Sequence[int], prior: float = 0.1) -> list[float]:
    """Smoothed probability of each UTC hour from a 24-bin histogram."""
    smooth = [
        0.25 * hours[(h - 1) % 24] + 0.5 * hours[h] + 0.25 * hours[(h + 1) % 24] + prior
        for h in range(24)
    ]
    total = sum(smooth)
    return [s / total for s in smooth]


def rarity_tail(dist: Sequence[float], hour: int) -> float:
    """P(an hour at least as rare as ``hour``) under ``dist``: the unusual-hour p-value."""
    p = dist[hour]
    return sum(q for q in dist if q <= p)


def _hour(time: int) -> int:
    return (time // HOUR_MS) % 24


def _values(e: AuthEvent) -> list[tuple[str, str]]:
    out = []
    for kind, value in (
        ("src_net", network_of(e.src_ip)),
        ("src_host", e.src_host),
        ("dst_host", e.dst_host),
    ):
        if value:
            out.append((kind, value))
    return out


class NoveltyPass:
    """Checks and learns every attempt of a run, in time order."""

    def __init__(self, cfg: UebaConfig, baseline: Baseline) -> None:
        self.cfg = cfg
        self.baseline = baseline
        self.first_seen: dict[tuple[str, str, int], _Group] = defaultdict(_Group)
        self.unusual: dict[tuple[str, int], _Group] = defaultdict(_Group)
        self.warm_checks = 0
        self.cold_skips = 0
        self.popular_skips = 0

    def _popular(self, host: str) -> bool:
        users = self.baseline.host_users.get(host, 0)
        return users >= max(
            self.cfg.popular_host_min_users, self.cfg.popular_host_share * self.baseline.known_users
        )

    def run(self, events: Sequence[AuthEvent], learnt: frozenset[str] = frozenset()) -> list[Hit]:
        """Check every attempt; learn those not in an already-learnt ingest batch."""
        for e in events:
            profile = self.baseline.user(e.user, self.cfg.group_of(e))
            profile.group = self.cfg.group_of(e)
            if e.outcome == SUCCESS and self._checkable(e, profile):
                self._check(e, profile)
            if e.batch and e.batch in learnt:
                continue  # the same content again: scored, not learnt twice
            self.baseline.note_time(e.time)
            if e.outcome == SUCCESS:
                self._learn_success(e, profile)
            elif e.outcome == FAILURE:
                profile.failures += e.count
                if e.source:
                    self.baseline.source(e.source).failures += e.count
        return self._hits()

    def _checkable(self, e: AuthEvent, p: UserProfile) -> bool:
        if e.machine and not self.cfg.include_machine_accounts:
            return False
        warm = (
            self.baseline.span_ms() >= self.cfg.warmup_hours * HOUR_MS
            and p.successes >= self.cfg.user_min_logons
            and p.span_ms() >= self.cfg.user_min_days * DAY_MS
        )
        if warm:
            self.warm_checks += 1
        else:
            self.cold_skips += 1
        return warm

    def _check(self, e: AuthEvent, p: UserProfile) -> None:
        day = e.time // DAY_MS
        for kind, value in _values(e):
            known = p.seen[kind]
            if value in known or not known:
                continue
            if kind == "dst_host" and self._popular(value):
                self.popular_skips += 1
                continue
            group = self.first_seen[(e.user, kind, day)]
            if value not in group.values:
                group.values[value] = e
                group.events.append(e)
            group.known = len(known)
            group.confidence = novelty_confidence(v[2] for v in known.values())
        hour = _hour(e.time)
        if p.successes < self.cfg.hour_min_logons:
            return
        user_dist = hour_distribution(p.hours)
        if user_dist[hour] >= self.cfg.hour_rare_user:
            return
        group_dist = hour_distribution(self.baseline.group_hours(p.group))
        group_rare = group_dist[hour] < self.cfg.hour_rare_group
        if self.cfg.unusual_hour_requires_group and not group_rare:
            return
        entry = self.unusual[(e.user, day)]
        entry.events.append(e)
        tail = rarity_tail(user_dist, hour)
        if not entry.confidence or 1.0 - tail > entry.confidence:
            entry.confidence = 1.0 - tail
            entry.user_p, entry.group_p = user_dist[hour], group_dist[hour]

    def _learn_success(self, e: AuthEvent, p: UserProfile) -> None:
        p.successes += 1
        p.first_seen = e.time if p.first_seen is None else min(p.first_seen, e.time)
        p.last_seen = e.time if p.last_seen is None else max(p.last_seen, e.time)
        hour = _hour(e.time)
        p.hours[hour] += 1
        self.baseline.group_hours(p.group)[hour] += 1
        for kind, value in _values(e):
            seen = p.seen[kind].get(value)
            if seen is None:
                p.seen[kind][value] = [e.time, e.time, 1]
                if kind == "dst_host":
                    self.baseline.host_users[value] = self.baseline.host_users.get(value, 0) + 1
            else:
                seen[0], seen[1] = min(seen[0], e.time), max(seen[1], e.time)
                seen[2] += 1
        if e.source:
            self.baseline.source(e.source).successes += 1

    def _hits(self) -> list[Hit]:
        hits: list[Hit] = []
        for (user, kind, _day), g in sorted(
            self.first_seen.items(), key=lambda kv: kv[1].events[0].time
        ):
            values = list(g.values)
            hits.append(
                Hit(
                    analytic="first-seen",
                    title=f"First-seen {_KIND_TEXT[kind]} for {user}: {', '.join(values[:3])}"
                    + (f" (+{len(values) - 3})" if len(values) > 3 else ""),
                    techniques=[("T1078", None)],
                    time=g.events[0].time,
                    severity=SEVERITY_LOW,
                    confidence=g.confidence,
                    events=sample(g.events, self.cfg.max_evidence),
                    event_count=len(g.events),
                    users=[user],
                    sources=[v for v in values if kind != "dst_host"][:10],
                    hosts=[v for v in values if kind == "dst_host"][:10],
                    explanation={
                        "observed": f"{len(values)} new {_KIND_TEXT[kind]}(s): "
                        f"{', '.join(values[:10])}",
                        "baseline": f"{g.known} known {_KIND_TEXT[kind]}(s) for {user}",
                        "kind": kind,
                        "new_values": values[:20],
                        "confidence_basis": "1 - Good-Turing P(new value)",
                    },
                )
            )
        for (user, _day), g in sorted(self.unusual.items(), key=lambda kv: kv[1].events[0].time):
            times = [iso(e.time) for e in g.events[:5]]
            both = g.group_p < self.cfg.hour_rare_group
            hits.append(
                Hit(
                    analytic="unusual-hour",
                    title=f"Logon at an unusual hour for {user}"
                    + (" and its peer group" if both else "")
                    + f": {times[0]}",
                    techniques=[("T1078", None)],
                    time=g.events[0].time,
                    severity=SEVERITY_MEDIUM if both else SEVERITY_LOW,
                    confidence=g.confidence,
                    events=sample(g.events, self.cfg.max_evidence),
                    event_count=len(g.events),
                    users=[user],
                    sources=sorted({e.source for e in g.events if e.source})[:10],
                    hosts=sorted({e.dst_host for e in g.events if e.dst_host})[:10],
                    explanation={
                        "observed": f"{len(g.events)} logon(s) at {', '.join(times)} UTC",
                        "baseline": f"share of this user's logons at that hour "
                        f"{g.user_p:.3f}; peer group {g.group_p:.3f}",
                        "user_hour_share": round(g.user_p, 4),
                        "group_hour_share": round(g.group_p, 4),
                        "confidence_basis": "1 - P(an hour at least this rare)",
                    },
                )
            )
        return hits
