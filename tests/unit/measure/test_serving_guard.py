"""The guard around ``ModelService.score`` with the shipped DGA model: every line logged,
API principals' answers coarsened and limited, the command line's account logged only, and
a flagged client's finding stored in the home's own pipeline state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from garrison.core.config import load_config
from garrison.core.errors import TooManyRequests
from garrison.govern.access import Principal
from garrison.govern.audit import MemoryAuditLog
from garrison.govern.serving import Client, GuardConfig, Query
from garrison.measure.serving import PipelineSink, forget_guards, guard_for, hashed_vector
from garrison.measure.training import ModelService
from garrison.store.state import StateDB
from garrison.triage.store import FindingStore

NAMES = ["google.com", "xjw9qpl2kd7v.net", "", "wikipedia.org"]


@pytest.fixture(autouse=True)
def _fresh_guards() -> Iterator[None]:
    forget_guards()
    yield
    forget_guards()


def _service(home: Path, principal: Principal | None = None) -> ModelService:
    service = ModelService(home, MemoryAuditLog(), actor=principal.name if principal else "root")
    service.principal = principal
    return service


def test_an_api_principal_gets_rounded_scores_and_every_line_is_logged(tmp_path: Path) -> None:
    ann = Principal("ann", frozenset({"analyst"}), "token")
    results = _service(tmp_path, ann).score("dga", NAMES)
    assert [r["verdict"] for r in results] == ["benign", "malicious", "invalid", "benign"]
    assert all(r["explanation"]["coarsened"] == "round" for r in results)
    assert all(r["score"] is None or r["score"] == round(r["score"], 2) for r in results)
    log = guard_for(tmp_path).log
    assert log.used("ann", log.db.query("SELECT MAX(day) FROM guard_queries")[0][0]) == 4  # type: ignore[arg-type]
    vectors = [v for _, v in log.history("ann", "dga", 10)]
    assert len(vectors) == 3  # the empty line was not scored, so it has no vector


def test_the_command_line_gets_the_full_answer(tmp_path: Path) -> None:
    results = _service(tmp_path).score("dga", NAMES[:2])
    assert "coarsened" not in results[1]["explanation"]
    assert guard_for(tmp_path).log.used("root", 0) == 0  # logged under today's day number
    assert len(guard_for(tmp_path).log.history("root", "dga", 10)) == 2


def test_past_the_burst_the_service_refuses_with_the_wait(tmp_path: Path) -> None:
    (tmp_path / "garrison.toml").write_text("[guard]\nburst = 3\nrate = 0.5\n", "utf-8")
    bob = Principal("bob", frozenset({"viewer"}), "token")
    service = _service(tmp_path, bob)
    service.score("dga", NAMES[:3])
    with pytest.raises(TooManyRequests, match="rate limit") as refused:
        service.score("dga", NAMES[:1])
    assert refused.value.retry_after == 2


def test_a_flagged_client_lands_in_the_findings_of_the_home(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    sink = PipelineSink(config)
    from garrison.govern.serving import QueryLog, ServingGuard
    from garrison.govern.serving.extraction import FeatureSpace

    guard = ServingGuard(GuardConfig(burst=100_000), QueryLog.open(tmp_path), sink)
    q = np.zeros(27, np.float32)
    guard.register("dga", FeatureSpace.from_quantiles(q, q + 1, q + 2))
    rng = np.random.default_rng(0)
    thief = Client("mallory")
    for _ in range(12):
        x = rng.uniform(-50, 50, (10, 27)).astype(np.float32)
        guard.record(thief, "dga", [Query(v.tobytes().hex(), "benign", 0.5, v) for v in x])
    state = StateDB(tmp_path / "state.db")
    try:
        rows = FindingStore(state).rows()
    finally:
        state.close()
    assert [r["analytic_uid"] for r in rows] == ["guard.extraction"]


def test_the_url_and_email_models_are_measured_in_a_hashed_space() -> None:
    a, b = hashed_vector("http://a.example/login"), hashed_vector("http://a.example/login")
    assert np.allclose(a, b) and abs(float(np.linalg.norm(a)) - 1.0) < 1e-5
    assert not np.allclose(a, hashed_vector("http://b.example/pay"))
    assert float(np.linalg.norm(hashed_vector(""))) == 0.0  # nothing to count, no NaN
