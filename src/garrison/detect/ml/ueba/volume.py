"""Volume analytics: brute force, password spraying, credential stuffing, success after
failures and lateral-movement fan-out.

They work on the run's attempts sorted by time, grouped into *bursts* (attempts no more
than ``burst_gap_minutes`` apart) so that one attack gives one finding however long it
lasts. Thresholds are absolute (a burst needs ``bruteforce_min_failures`` failures ...);
the baseline only adds the "vs baseline" context and the calibrated confidence, and, for
fan-out, raises the bar for actors that routinely touch many hosts (administrators,
deployment accounts). Known blind spots: an attack slower than one attempt per burst gap
is split into small bursts and missed; a spray that rotates source addresses per attempt
is seen as stuffing (one source each), not spraying.

Attribution: guessing findings (brute force, spraying, stuffing) and fan-out list every
targeted account, target host and source in the explanation, up to ``max_named`` each (and
say when a list was capped), and name the most attempted ``max_named_entities`` of each kind
as entities (see ``UebaConfig`` for why not all). Brute force and spraying also name the
accounts that *logged on* from the guessing source during the burst or within one burst
gap after it -- the accounts the attack took -- with those logons among the evidences.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict, deque
from collections.abc import Sequence

from garrison.core.findings import SEVERITY_HIGH, SEVERITY_MEDIUM
from garrison.detect.ml.ueba.authevents import FAILURE, SUCCESS, AuthEvent
from garrison.detect.ml.ueba.baseline import Baseline
from garrison.detect.ml.ueba.common import (
    HOUR_MS,
    MINUTE_MS,
    Hit,
    UebaConfig,
    bursts,
    capped,
    poisson_confidence,
    sample,
)


def _n(events: Sequence[AuthEvent]) -> int:
    return sum(e.count for e in events)


def _hours(events: Sequence[AuthEvent]) -> float:
    return max(1.0, (events[-1].time - events[0].time) / HOUR_MS)


def _rate_text(failures: int, active_hours: int) -> tuple[str, float | None]:
    if active_hours <= 0:
        return "no history for this entity", None
    rate = failures / active_hours
    return f"{rate:.2f} failures per active hour over {active_hours} h of history", rate


def bruteforce_and_spraying(
    events: Sequence[AuthEvent], cfg: UebaConfig, baseline: Baseline
) -> list[Hit]:
    """Per source: a burst of failures on few accounts (brute force) or many (spraying)."""
    by_source: dict[str, list[AuthEvent]] = defaultdict(list)
    successes: dict[str, list[AuthEvent]] = defaultdict(list)
    for e in events:
        if e.source and e.outcome in (FAILURE, SUCCESS):
            (by_source if e.outcome == FAILURE else successes)[e.source].append(e)
    hits: list[Hit] = []
    gap = cfg.burst_gap_minutes * MINUTE_MS
    for src, fails in by_source.items():
        for burst in bursts(fails, gap, lambda e: e.time):
            n = _n(burst)
            if n < cfg.bruteforce_min_failures:
                continue
            per_user = Counter[str]()
            for e in burst:
                per_user[e.user] += e.count
            spraying = (
                len(per_user) >= cfg.spray_min_users
                and n / len(per_user) <= cfg.spray_max_attempts_per_user
            )
            profile = baseline.source(src)
            history, rate = _rate_text(profile.failures, profile.active_hours)
            expected = (rate if rate is not None else cfg.prior_failures_per_hour) * _hours(burst)
            kind = "password spraying" if spraying else "brute force"
            observed = (
                f"{n} failed logons from {src} against {len(per_user)} account(s) "
                f"in {(burst[-1].time - burst[0].time) / MINUTE_MS:.0f} min"
            )
            taken = _successes_during(successes.get(src, []), burst, gap)
            won = list(dict.fromkeys(e.user for e in taken))
            targets, targets_capped = capped([u for u, _ in per_user.most_common()], cfg.max_named)
            hosts, hosts_capped = capped(_hosts_by_count([*burst, *taken]), cfg.max_named)
            title = (
                f"Password {'spraying' if spraying else 'guessing'} from {src}: "
                f"{n} failures on {len(per_user)} account(s)"
            )
            if won:
                title += f", then logon as {', '.join(won[:3])}{' ...' if len(won) > 3 else ''}"
                observed += f"; {len(taken)} successful logon(s) from {src} as {', '.join(won)}"
            hits.append(
                Hit(
                    analytic="spraying" if spraying else "bruteforce",
                    title=title,
                    techniques=[("T1110.003" if spraying else "T1110.001", "credential-access")],
                    time=burst[0].time,
                    severity=SEVERITY_MEDIUM,
                    confidence=poisson_confidence(n, expected),
                    events=[
                        *sample(burst, cfg.max_evidence),
                        *sample(taken, cfg.max_success_evidence),
                    ],
                    event_count=len(burst) + len(taken),
                    users=list(dict.fromkeys([*won, *targets[: cfg.max_named_entities]])),
                    sources=[src],
                    hosts=hosts[: max(cfg.max_named_entities, 1)],
                    explanation={
                        "observed": observed,
                        "baseline": history,
                        "analytic": kind,
                        "failures": n,
                        "accounts": len(per_user),
                        "attempts_per_account_mean": round(n / len(per_user), 2),
                        "top_accounts": dict(per_user.most_common(5)),
                        "targeted_accounts": targets,
                        "targeted_accounts_capped": targets_capped,
                        "target_hosts": hosts,
                        "target_hosts_capped": hosts_capped,
                        "succeeded_accounts": won,
                        "successful_logons": len(taken),
                        "success_window": "the burst and one burst gap "
                        f"({cfg.burst_gap_minutes:g} min) after it, same source",
                        "expected_failures_at_baseline": round(expected, 2),
                    },
                )
            )
    return hits


def _successes_during(
    successes: Sequence[AuthEvent], burst: Sequence[AuthEvent], gap: float
) -> list[AuthEvent]:
    """The source's successful logons from its burst's start to one gap after its end."""
    times = [e.time for e in successes]
    lo = bisect.bisect_left(times, burst[0].time)
    hi = bisect.bisect_right(times, burst[-1].time + gap)
    return list(successes[lo:hi])


def distributed_bruteforce(
    events: Sequence[AuthEvent], cfg: UebaConfig, baseline: Baseline
) -> list[Hit]:
    """Per target account: a burst of failures from several sources."""
    by_user: dict[str, list[AuthEvent]] = defaultdict(list)
    for e in events:
        if e.outcome == FAILURE:
            by_user[e.user].append(e)
    hits: list[Hit] = []
    gap = cfg.burst_gap_minutes * MINUTE_MS
    for user, fails in by_user.items():
        for burst in bursts(fails, gap, lambda e: e.time):
            n = _n(burst)
            sources = Counter(e.source or "?" for e in burst)
            if n < cfg.bruteforce_min_failures or len(sources) < cfg.distributed_min_sources:
                continue
            profile = baseline.user(user)
            history, rate = _rate_text(profile.failures, profile.active_hours)
            expected = (rate if rate is not None else cfg.prior_failures_per_hour) * _hours(burst)
            hits.append(
                Hit(
                    analytic="bruteforce-account",
                    title=f"Account {user} attacked from {len(sources)} sources: {n} failures",
                    techniques=[("T1110.001", "credential-access")],
                    time=burst[0].time,
                    severity=SEVERITY_MEDIUM,
                    confidence=poisson_confidence(n, expected),
                    events=sample(burst, cfg.max_evidence),
                    event_count=len(burst),
                    users=[user],
                    sources=[s for s, _ in sources.most_common() if s != "?"][
                        : cfg.max_named_entities
                    ],
                    hosts=_hosts_by_count(burst)[: cfg.max_named_entities],
                    explanation={
                        "observed": f"{n} failed logons for {user} from {len(sources)} sources",
                        "baseline": history,
                        "failures": n,
                        "sources": len(sources),
                        "top_sources": dict(sources.most_common(5)),
                        "sources_listed": [s for s, _ in sources.most_common(cfg.max_named)],
                        "sources_listed_capped": len(sources) > cfg.max_named,
                        "expected_failures_at_baseline": round(expected, 2),
                    },
                )
            )
    return hits


def credential_stuffing(events: Sequence[AuthEvent], cfg: UebaConfig) -> list[Hit]:
    """Per target host: many accounts from many sources, few tries each, little success."""
    by_host: dict[str, list[AuthEvent]] = defaultdict(list)
    for e in events:
        by_host[e.dst_host or "*"].append(e)
    hits: list[Hit] = []
    gap = cfg.burst_gap_minutes * MINUTE_MS
    for host, attempts in by_host.items():
        fails = [e for e in attempts if e.outcome == FAILURE]
        succ_times = [e.time for e in attempts if e.outcome == SUCCESS]
        for burst in bursts(fails, gap, lambda e: e.time):
            per_user = Counter[str]()
            for e in burst:
                per_user[e.user] += e.count
            sources = {e.source for e in burst if e.source}
            if (
                len(per_user) < cfg.stuffing_min_users
                or len(sources) < cfg.stuffing_min_sources
                or _n(burst) / len(per_user) > cfg.stuffing_max_attempts_per_user
            ):
                continue
            n = _n(burst)
            lo = bisect.bisect_left(succ_times, burst[0].time)
            hi = bisect.bisect_right(succ_times, burst[-1].time)
            successes = hi - lo
            ratio = successes / (n + successes)
            if ratio > cfg.stuffing_max_success_ratio:
                continue
            hits.append(
                Hit(
                    analytic="stuffing",
                    title=f"Credential stuffing against {host}: {len(per_user)} accounts from "
                    f"{len(sources)} sources, {successes} successes",
                    techniques=[("T1110.004", "credential-access")],
                    time=burst[0].time,
                    severity=SEVERITY_MEDIUM,
                    confidence=1.0 - ratio,
                    events=sample(burst, cfg.max_evidence),
                    event_count=len(burst),
                    users=[u for u, _ in per_user.most_common(cfg.max_named_entities)],
                    sources=sorted(sources)[: cfg.max_named_entities],
                    hosts=[] if host == "*" else [host],
                    explanation={
                        "observed": f"{n} failures on {len(per_user)} accounts from "
                        f"{len(sources)} sources, success ratio {ratio:.3f}",
                        "baseline": f"success ratio must stay <= {cfg.stuffing_max_success_ratio}",
                        "attempts_per_account_mean": round(n / len(per_user), 2),
                        "confidence_basis": "1 - success ratio",
                        "targeted_accounts": [u for u, _ in per_user.most_common(cfg.max_named)],
                        "targeted_accounts_capped": len(per_user) > cfg.max_named,
                        "sources_listed": sorted(sources)[: cfg.max_named],
                        "sources_listed_capped": len(sources) > cfg.max_named,
                    },
                )
            )
    return hits


def success_after_failures(
    events: Sequence[AuthEvent], cfg: UebaConfig, baseline: Baseline
) -> list[Hit]:
    """A success for an account right after a run of failures for it."""
    fail_times: dict[str, list[int]] = defaultdict(list)
    fail_events: dict[str, list[AuthEvent]] = defaultdict(list)
    for e in events:
        if e.outcome == FAILURE:
            fail_times[e.user].append(e.time)
            fail_events[e.user].append(e)
    window = cfg.success_after_window_minutes * MINUTE_MS
    last_hit: dict[str, int] = {}
    hits: list[Hit] = []
    for e in events:
        if e.outcome != SUCCESS or e.user not in fail_times:
            continue
        if e.time - last_hit.get(e.user, -(10**18)) < window:
            continue
        times = fail_times[e.user]
        lo = bisect.bisect_left(times, e.time - window)
        hi = bisect.bisect_left(times, e.time + 1)
        prior = fail_events[e.user][lo:hi]
        n = _n(prior)
        if n < cfg.success_after_min_failures:
            continue
        last_hit[e.user] = e.time
        profile = baseline.user(e.user)
        history, rate = _rate_text(profile.failures, profile.active_hours)
        expected = (rate if rate is not None else cfg.prior_failures_per_hour) * (window / HOUR_MS)
        sources = sorted({x.source for x in prior if x.source})
        hits.append(
            Hit(
                analytic="success-after-failures",
                title=f"Successful logon for {e.user} after {n} failures",
                techniques=[("T1110", "credential-access"), ("T1078", "initial-access")],
                time=prior[0].time,
                severity=SEVERITY_HIGH,
                confidence=poisson_confidence(n, expected),
                events=[*sample(prior, cfg.max_evidence - 1), e],
                event_count=len(prior) + 1,
                users=[e.user],
                sources=sorted({*sources, *([e.source] if e.source else [])})[
                    : cfg.max_named_entities
                ],
                hosts=[e.dst_host] if e.dst_host else [],
                explanation={
                    "observed": f"{n} failures in the "
                    f"{cfg.success_after_window_minutes:.0f} min before a "
                    f"success from {e.source or 'unknown source'}",
                    "baseline": history,
                    "failures_before": n,
                    "success_source": e.source,
                    "failure_sources": sources[:10],
                },
            )
        )
    return hits


def fanout(
    events: Sequence[AuthEvent], cfg: UebaConfig, baseline: Baseline
) -> tuple[list[Hit], dict[str, int]]:
    """One account or one source reaching many hosts within ``fanout_window_minutes``.

    Each actor's successes are walked in time order with a sliding window. The bar is
    ``max(fanout_min_hosts, fanout_baseline_factor * busiest earlier window + 1)``, where
    "earlier" means windows that closed before the current one started -- from the stored
    baseline and from this run -- so routine administrators and deployment accounts set
    their own bar. Nothing fires while the baseline is younger than ``warmup_hours`` (a
    cold start learns the nightly jobs first). A window that fired is learnt too once it
    has closed: the same actor must then roughly double its reach to fire again, which
    keeps a recurring benign round (an administrator's patch day) to one finding, at the
    price of a second, smaller fan-out by the same attacker going unreported. Returns each
    actor's busiest window (``user:x`` / ``source:y``) for the caller to store.
    """
    actors: dict[tuple[str, str], list[AuthEvent]] = defaultdict(list)
    for e in events:
        if e.outcome != SUCCESS or not e.dst_host or e.dst_host == e.src_host:
            continue
        actors[("user", e.user)].append(e)
        if e.source:
            actors[("source", e.source)].append(e)
    first = (
        min(
            baseline.first_time if baseline.first_time is not None else events[0].time,
            events[0].time,
        )
        if events
        else 0
    )
    warm_from = first + cfg.warmup_hours * HOUR_MS
    window = cfg.fanout_window_minutes * MINUTE_MS
    busiest: dict[str, int] = {}
    hits: list[Hit] = []
    for (kind, actor), evs in actors.items():
        previous = (
            baseline.user(actor).max_hosts_per_hour
            if kind == "user"
            else baseline.source(actor).max_hosts_per_hour
        )
        learnt, episodes = _fanout_walk(evs, window, previous, cfg, warm_from)
        busiest[f"{kind}:{actor}"] = learnt
        for best, lo, hi, bar, before in episodes:
            hits.append(_fanout_hit(kind, actor, evs[lo:hi], best, bar, before, cfg))
    return hits, busiest


def _fanout_walk(
    evs: Sequence[AuthEvent], window: float, previous: int, cfg: UebaConfig, warm_from: float
) -> tuple[int, list[tuple[int, int, int, int, int]]]:
    """(busiest benign window, episodes as (hosts, start, end, bar, busiest before))."""
    counts: Counter[str] = Counter()
    pending: deque[tuple[int, int]] = deque()  # (window end time, distinct) not yet closed
    learnt = previous
    episodes: list[tuple[int, int, int, int, int]] = []
    episode: list[int] | None = None  # [best, lo, hi, bar, before]
    lo = 0
    for hi, e in enumerate(evs):
        counts[str(e.dst_host)] += 1
        while e.time - evs[lo].time > window:
            old = str(evs[lo].dst_host)
            counts[old] -= 1
            if counts[old] == 0:
                del counts[old]
            lo += 1
        while pending and pending[0][0] < evs[lo].time:
            learnt = max(learnt, pending.popleft()[1])
        distinct = len(counts)
        bar = max(cfg.fanout_min_hosts, int(cfg.fanout_baseline_factor * learnt) + 1)
        if episode is not None:
            if evs[lo].time > evs[episode[2] - 1].time:  # the episode's window has passed
                episodes.append((episode[0], episode[1], episode[2], episode[3], episode[4]))
                learnt = max(learnt, episode[0])
                episode = None
            elif distinct > episode[0]:
                episode[0], episode[2] = distinct, hi + 1
                continue
            else:
                continue
        if distinct >= bar and e.time >= warm_from:
            episode = [distinct, lo, hi + 1, bar, learnt]
            pending.clear()
            continue
        pending.append((e.time, distinct))
    if episode is not None:
        episodes.append((episode[0], episode[1], episode[2], episode[3], episode[4]))
        learnt = max(learnt, episode[0])
    for _, distinct in pending:
        learnt = max(learnt, distinct)
    return learnt, episodes


def _fanout_hit(
    kind: str,
    actor: str,
    in_window: Sequence[AuthEvent],
    best: int,
    bar: int,
    before: int,
    cfg: UebaConfig,
) -> Hit:
    first_per_host: dict[str, AuthEvent] = {}
    for e in in_window:
        first_per_host.setdefault(str(e.dst_host), e)
    hosts = list(first_per_host)
    users = Counter(e.user for e in in_window)
    sources = Counter(e.source for e in in_window if e.source)
    return Hit(
        analytic="fanout",
        title=f"Lateral-movement fan-out: {kind} {actor} authenticated to {best} hosts "
        f"within {cfg.fanout_window_minutes:.0f} min",
        techniques=[("T1021", "lateral-movement")],
        time=in_window[0].time,
        severity=SEVERITY_HIGH if best >= 2 * bar else SEVERITY_MEDIUM,
        confidence=poisson_confidence(best, max(1.0, float(before))),
        events=sample(list(first_per_host.values()), cfg.max_evidence),
        event_count=len(in_window),
        users=[u for u, _ in users.most_common(cfg.max_named_entities)],
        sources=[s for s, _ in sources.most_common(cfg.max_named_entities)],
        hosts=hosts[: cfg.max_named_entities],
        explanation={
            "observed": f"{best} distinct hosts in {cfg.fanout_window_minutes:.0f} min",
            "baseline": (
                f"busiest earlier window: {before} hosts" if before else "no fan-out history"
            ),
            "actor": f"{kind}:{actor}",
            "threshold": bar,
            "hosts": hosts[: cfg.max_named],
            "hosts_capped": len(hosts) > cfg.max_named,
            "confidence_basis": "1 - Poisson P(>= hosts | busiest earlier window)",
        },
    )


def _hosts_by_count(events: Sequence[AuthEvent]) -> list[str]:
    """Target hosts of the events, most attempted first."""
    return [h for h, _ in Counter(e.dst_host for e in events if e.dst_host).most_common()]
