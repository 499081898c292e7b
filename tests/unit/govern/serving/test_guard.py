"""The guard end to end without HTTP or a model: limits, the log, coarsening, a flagged
client raising one ``guard.extraction`` finding, and what happens to it afterwards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from garrison.core.errors import TooManyRequests
from garrison.core.findings import Finding
from garrison.govern.serving import (
    Blocked,
    Client,
    FeatureSpace,
    QueryLog,
    RateLimited,
    ServingGuard,
    load_guard_config,
)
from garrison.govern.serving.querylog import Query

DIMS = 8
SPACE = FeatureSpace.from_quantiles(
    np.zeros(DIMS, np.float32), np.full(DIMS, 2.0, np.float32), np.full(DIMS, 10.0, np.float32)
)
THIEF = Client("mallory", frozenset({"analyst"}))
RESULT = {"input": "a.com", "score": 0.123456, "verdict": "benign", "explanation": {"x": 1}}


def _guard(home: Path, found: list[Finding], **table: object) -> ServingGuard:
    config = load_guard_config({"guard": table})
    guard = ServingGuard(config, QueryLog.open(home), found.append, clock=lambda: 1_000)
    guard.register("dga", SPACE)
    return guard


def _attack(guard: ServingGuard, client: Client, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(n // 10):
        guard.admit(client, "dga", 10)
        x = rng.uniform(-40, 60, (10, DIMS)).astype(np.float32)
        guard.record(client, "dga", [Query(v.tobytes().hex(), "benign", 0.1, v) for v in x])


def test_a_flagged_client_raises_one_finding_about_it(tmp_path: Path) -> None:
    found: list[Finding] = []
    guard = _guard(tmp_path, found, burst=10_000)
    _attack(guard, THIEF, 300)
    assert len(found) == 1
    finding = found[0]
    assert finding.analytic_uid == "guard.extraction"
    assert [e.key() for e in finding.entities] == ["user:mallory"]
    assert finding.attacks[0].technique_uid == "AML.T0024.002"
    assert finding.explanation["queries"] == 100 and finding.explanation["model"] == "dga"
    assert guard.log.flags("mallory")[0].finding == finding.uid


def test_after_the_flag_answers_are_labels_only_by_default(tmp_path: Path) -> None:
    guard = _guard(tmp_path, [], burst=10_000)
    assert guard.limits(THIEF, "dga").coarsen == "round"
    _attack(guard, THIEF, 100)
    limits = guard.admit(THIEF, "dga", 1)
    assert guard.coarsen([RESULT], limits)[0]["score"] is None
    assert guard.limits(Client("ann"), "dga").coarsen == "round"  # others unaffected


def test_block_refuses_and_survives_a_restart(tmp_path: Path) -> None:
    found: list[Finding] = []
    table = {"burst": 10_000, "extraction": {"on_flag": "block"}}
    _attack(_guard(tmp_path, found, **table), THIEF, 100)
    again = _guard(tmp_path, found, **table)  # a new process on the same home
    with pytest.raises(Blocked) as refused:
        again.admit(THIEF, "dga", 1)
    assert refused.value.retry_after > 0
    _attack(_guard(tmp_path, found, burst=10_000), Client("bob"), 50)
    assert len(found) == 1


def test_throttle_divides_the_rate(tmp_path: Path) -> None:
    throttle = {"on_flag": "throttle", "throttle_factor": 10.0}
    guard = _guard(tmp_path, [], burst=100, rate=10.0, extraction=throttle)
    now = [0]
    guard.clock = guard.buckets.clock = lambda: now[0]
    for i in range(10):
        now[0] += 10_000
        _attack(guard, THIEF, 10, seed=i)
    now[0] += 100_000
    assert guard.limits(THIEF, "dga").burst == 10
    with pytest.raises(RateLimited):
        guard.admit(THIEF, "dga", 11)


def test_the_stream_state_is_rebuilt_from_the_log_after_a_restart(tmp_path: Path) -> None:
    found: list[Finding] = []
    _attack(_guard(tmp_path, found, burst=10_000), THIEF, 60)
    assert not found
    _attack(_guard(tmp_path, found, burst=10_000), THIEF, 40, seed=1)
    assert len(found) == 1 and found[0].explanation["distinct"] == 100


def test_the_command_line_account_is_logged_but_not_limited(tmp_path: Path) -> None:
    guard = _guard(tmp_path, [], burst=5, daily_quota=5)
    me = Client("root", local=True)
    limits = guard.admit(me, "dga", 50)
    assert limits.coarsen == "full"
    guard.record(me, "dga", [Query("a.com", "benign", 0.1)] * 50)
    assert guard.log.used("root", 0) == 50
    with pytest.raises(TooManyRequests):  # an API client with the same table is limited
        guard.admit(Client("ann"), "dga", 6)


def test_models_outside_the_tested_list_are_logged_not_tested(tmp_path: Path) -> None:
    found: list[Finding] = []
    guard = _guard(tmp_path, found, burst=10_000)
    guard.register("url", SPACE)
    x = np.random.default_rng(0).uniform(-40, 60, (200, DIMS)).astype(np.float32)
    assert guard.record(THIEF, "url", [Query("u", "benign", 0.1, v) for v in x]) is None
    assert not found and guard.log.used("mallory", 0) == 200


def test_admitted_lines_count_against_the_quota_before_they_are_logged(tmp_path: Path) -> None:
    guard = _guard(tmp_path, [], daily_quota=10)
    ann = Client("ann")
    guard.admit(ann, "dga", 6)  # scoring in progress: nothing logged yet
    with pytest.raises(TooManyRequests, match="6 of 10 lines used today"):
        guard.admit(ann, "dga", 6)
    guard.record(ann, "dga", [Query("a.com", "benign", 0.1)] * 6)
    guard.admit(ann, "dga", 4)


def test_a_sink_that_fails_loses_no_flag(tmp_path: Path) -> None:
    def broken(_finding: Finding) -> None:
        raise OSError("disk full")

    guard = _guard(tmp_path, [], burst=10_000)
    guard.sink = broken
    _attack(guard, THIEF, 100)
    assert [f.client for f in guard.log.flags()] == ["mallory"]
    assert guard.limits(THIEF, "dga").coarsen == "label"
