"""Coarsening: labels only, or rounded scores; attributions never leave under either."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from garrison.govern.serving.coarsen import coarsen

RESULT = {
    "input": "kq3v9z.com",
    "score": 0.987654,
    "verdict": "malicious",
    "explanation": {
        "registered_domain": "kq3v9z.com",
        "top_features": [{"feature": "entropy", "shap": 1.2}],
        "threshold": 0.9,
    },
}


def test_full_is_the_result_as_scored() -> None:
    assert coarsen(RESULT, "full", 2) == RESULT


def test_round_rounds_and_drops_the_attributions() -> None:
    out = coarsen(RESULT, "round", 2)
    assert out["score"] == 0.99 and out["verdict"] == "malicious"
    assert out["explanation"] == {"registered_domain": "kq3v9z.com", "coarsened": "round"}


def test_label_keeps_the_verdict_alone() -> None:
    out = coarsen(RESULT, "label", 2)
    assert out["score"] is None and out["verdict"] == "malicious"
    assert "top_features" not in out["explanation"] and "threshold" not in out["explanation"]


@given(st.floats(0, 1), st.integers(0, 6))
def test_a_rounded_score_carries_at_most_the_configured_decimals(p: float, d: int) -> None:
    out = coarsen({**RESULT, "score": p}, "round", d)
    assert out["score"] == round(out["score"], d)
    assert abs(out["score"] - p) <= 0.5 * 10**-d + 1e-12
