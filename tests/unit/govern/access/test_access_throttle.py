"""Sign-in throttling: a guesser is refused before argon2 runs, per client and per name,
until the window passes; one audit entry per block, not per attempt."""

from __future__ import annotations

import pytest

from garrison.core.errors import TooManyRequests, Unauthenticated
from garrison.govern.access.throttle import MAX_KEYS, LoginThrottle, sign_in
from garrison.store.state import StateDB
from tests.unit.govern.access.conftest import PASSWORD, Home


def _home() -> tuple[Home, LoginThrottle]:
    home = Home()
    home.as_(None).add_user("boss", ["admin"], PASSWORD)
    return home, LoginThrottle(home.state, limit=3, window_ms=60_000, clock=home.clock)


def _try(home: Home, throttle: LoginThrottle, password: str, client: str = "10.0.0.1"):
    return sign_in(home.as_(None), throttle, "boss", password, client)


def test_the_limit_blocks_even_the_right_password_until_the_window_passes() -> None:
    home, throttle = _home()
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            _try(home, throttle, "wrong password!!")
    with pytest.raises(TooManyRequests) as err:
        _try(home, throttle, PASSWORD)
    assert 1 <= err.value.retry_after <= 60
    home.clock.now += 60_001
    assert _try(home, throttle, PASSWORD).name == "boss"


def test_the_name_is_blocked_from_every_client_and_the_client_for_every_name() -> None:
    home, throttle = _home()
    for i in range(3):
        with pytest.raises(Unauthenticated):
            _try(home, throttle, "wrong password!!", client=f"10.0.0.{i}")
    with pytest.raises(TooManyRequests):
        _try(home, throttle, PASSWORD, client="10.9.9.9")  # the name is blocked
    with pytest.raises(TooManyRequests):  # a client that failed once: the name still is
        _try(home, throttle, PASSWORD, client="10.0.0.0")


def test_one_audit_entry_per_block_and_no_guess_in_it() -> None:
    home, throttle = _home()
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            _try(home, throttle, "hunter2-is-not-it")
    for _ in range(10):
        with pytest.raises(TooManyRequests):
            _try(home, throttle, "hunter2-is-not-it")
    entries = home.audit.entries(action="auth.throttle")
    assert sorted(e.target for e in entries) == ["10.0.0.1", "a user name"]
    assert all("hunter2" not in e.details for e in home.audit.entries())


def test_a_success_clears_the_name() -> None:
    home, throttle = _home()
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            _try(home, throttle, "wrong password!!", client="10.0.0.7")
    _try(home, throttle, PASSWORD, client="10.0.0.8")
    with pytest.raises(Unauthenticated):  # the name's count started again
        _try(home, throttle, "wrong password!!", client="10.0.0.8")
    assert throttle.wait_ms(["name:boss"]) == 0


def test_the_table_stays_bounded_under_a_spray_of_names() -> None:
    clock = iter(range(1, 10_000))
    throttle = LoginThrottle(
        StateDB.memory(), limit=3, window_ms=60_000, clock=lambda: next(clock), max_keys=50
    )
    throttle.failed(["name:first"])
    for i in range(150):
        throttle.failed([f"name:n{i}"])
    assert throttle.keys() == 50
    assert throttle.wait_ms(["name:n149"]) == 0  # the newest kept, the oldest dropped
    assert MAX_KEYS >= 10_000


def test_workers_share_the_count_through_the_state(tmp_path) -> None:
    """Two server processes open their own throttle on one home: the guesser's failures
    at either count against the same limit."""
    home = Home()
    home.as_(None).add_user("boss", ["admin"], PASSWORD)
    state = StateDB(tmp_path / "state.db")
    first = LoginThrottle(state, limit=3, window_ms=60_000, clock=home.clock)
    second = LoginThrottle(StateDB(tmp_path / "state.db"), limit=3, window_ms=60_000,
                           clock=home.clock)  # fmt: skip
    first.failed(["name:boss"])
    second.failed(["name:boss"])
    assert first.failed(["name:boss"]) == ["name:boss"]
    assert second.wait_ms(["name:boss"]) > 0
