"""Token buckets and daily quotas: refusals say how long to wait, and what a bucket lets
through never exceeds its size plus what it refilled (property-tested)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.core.errors import TooManyRequests
from garrison.govern.serving.limits import (
    DAY_MS,
    Buckets,
    QuotaExceeded,
    RateLimited,
    check_quota,
)


def test_a_bucket_refuses_past_its_burst_and_refills() -> None:
    now = [0]
    buckets = Buckets(lambda: now[0])
    buckets.take("ann", 10, rate=2.0, burst=10)
    with pytest.raises(RateLimited) as refused:
        buckets.take("ann", 4, rate=2.0, burst=10)
    assert refused.value.retry_after == 2  # 4 tokens at 2 a second
    now[0] = 2_000
    buckets.take("ann", 4, rate=2.0, burst=10)
    buckets.take("bob", 10, rate=2.0, burst=10)  # another client has its own bucket


def test_a_request_larger_than_the_burst_is_refused_whole_with_the_reason() -> None:
    with pytest.raises(RateLimited, match="more than this client's burst of 5"):
        Buckets(lambda: 0).take("ann", 6, rate=1.0, burst=5)


def test_the_daily_quota_counts_what_was_used_and_resets_at_midnight_utc() -> None:
    check_quota(used=90, n=10, quota=100, now=5)
    with pytest.raises(QuotaExceeded, match="90 of 100 lines used today") as refused:
        check_quota(used=90, n=11, quota=100, now=DAY_MS - 60_000)
    assert refused.value.retry_after == 60
    assert isinstance(refused.value, TooManyRequests)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5_000), st.integers(1, 40)), min_size=1, max_size=60),
    st.floats(0.5, 20.0),
    st.integers(1, 50),
)
def test_admitted_lines_never_exceed_the_burst_plus_the_refill(
    requests: list[tuple[int, int]], rate: float, burst: int
) -> None:
    now = [0]
    buckets = Buckets(lambda: now[0])
    admitted = 0
    for wait, n in requests:
        now[0] += wait
        try:
            buckets.take("c", n, rate, burst)
            admitted += n
        except RateLimited as exc:
            assert exc.retry_after >= 1
    assert admitted <= burst + rate * now[0] / 1000 + 1e-6
