"""``with_retries``: every attempt recorded with its delay, exponential backoff capped,
non-retryable errors stop at once, jitter reproducible under a seeded ``random.Random``."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from garrison.respond.connectors.base import ConnectorError, Delivery, Receipt
from garrison.respond.connectors.memory import Memory
from garrison.respond.retry import delay_before, with_retries

D = Delivery("notify.webhook", {"connector": "m"}, "k")


def test_flaky_peer_recovers_after_backoff() -> None:
    twin = Memory("m", fail_first=2)
    slept: list[float] = []
    outcome = with_retries(lambda: twin.send(D), 5, 1.0, 30.0, sleep=slept.append)
    assert outcome.ok and outcome.receipt == Receipt("memory:m:1", "notify.webhook sent")
    assert [(a.number, a.ok, a.delay) for a in outcome.attempts] == [
        (1, False, 0.0), (2, False, 1.0), (3, True, 2.0)
    ]  # fmt: skip
    assert slept == [1.0, 2.0] and twin.delivered == ["k"]
    assert "failure 1" in outcome.attempts[0].reason


def test_gives_up_after_attempts_with_the_last_error() -> None:
    twin = Memory("m", fail="retryable")
    slept: list[float] = []
    outcome = with_retries(lambda: twin.send(D), 4, 1.0, 3.0, sleep=slept.append)
    assert not outcome.ok and len(outcome.attempts) == 4
    assert slept == [1.0, 2.0, 3.0]  # capped at backoff_max
    assert outcome.error is not None and outcome.reason == "memory m: failure 4 (as configured)"


def test_permanent_error_stops_at_once() -> None:
    twin = Memory("m", fail="permanent")
    slept: list[float] = []
    outcome = with_retries(lambda: twin.send(D), 5, 1.0, 30.0, sleep=slept.append)
    assert len(outcome.attempts) == 1 and slept == [] and not outcome.attempts[0].retryable


def test_other_exceptions_propagate() -> None:
    def broken() -> Receipt:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        with_retries(broken, 3, 0, 0)
    with pytest.raises(ValueError):
        with_retries(broken, 0, 0, 0)


def test_jitter_is_deterministic_under_a_seed() -> None:
    def run(seed: int) -> list[float]:
        slept: list[float] = []
        twin = Memory("m", fail="retryable")
        with_retries(lambda: twin.send(D), 6, 1.0, 8.0, sleep=slept.append, rng=random.Random(seed))
        return slept

    assert run(7) == run(7) != run(8)
    assert all(0 <= s <= cap for s, cap in zip(run(7), [1, 2, 4, 8, 8], strict=True))


@given(st.integers(1, 70), st.floats(0, 300), st.floats(0, 3600), st.integers(0, 99))
def test_delay_never_exceeds_the_cap(n: int, backoff: float, cap: float, seed: int) -> None:
    plain = delay_before(n, backoff, cap)
    jittered = delay_before(n, backoff, cap, random.Random(seed))
    assert 0 <= jittered <= plain <= max(cap, 0) and (n > 1 or plain == 0)


def test_connector_error_reason_kept() -> None:
    def fail() -> Receipt:
        raise ConnectorError("x answered 400 Bad Request", retryable=False)

    outcome = with_retries(fail, 3, 0, 0)
    assert outcome.reason == "x answered 400 Bad Request"
