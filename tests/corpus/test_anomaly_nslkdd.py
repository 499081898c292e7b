"""The flow classifier on NSL-KDD (3 folds and fewer trees here for speed; the full 5-fold
run is `garrison eval nslkdd`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from garrison.measure.ml_eval.nslkdd_eval import evaluate

pytestmark = pytest.mark.corpus


def test_cross_validated_per_category(corpus: Path) -> None:
    # One OpenMP thread: with busy neighbours, OpenMP spinning made this 70x slower.
    with threadpool_limits(1):
        r = evaluate(corpus, folds=3, max_iter=40)
    per = r["per_category"]
    assert r["rows"] == 25192
    assert per["dos"]["recall"] >= 0.99 and per["normal"]["recall"] >= 0.99
    assert per["probe"]["recall"] >= 0.95 and per["r2l"]["recall"] >= 0.7
    assert per["u2r"]["support"] == 11
    assert r["attack_vs_normal"]["roc_auc"] >= 0.99
    assert r["attack_vs_normal"]["measured_fpr"] <= 0.02
