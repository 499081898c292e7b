"""One contract for every anomaly estimator behind the protocol (batch and streaming).

Parametrised over ``ESTIMATORS``: a new estimator is covered by adding it there.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from garrison.detect.ml.anomaly import ESTIMATORS, Estimator, make

NAMES = sorted(ESTIMATORS)


def _blob(n: int = 400, d: int = 4, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 1.0, size=(n, d))


@pytest.mark.parametrize("name", NAMES)
def test_follows_the_protocol(name: str) -> None:
    est = make(name, 0)
    assert isinstance(est, Estimator)
    assert est.name and est.version


@pytest.mark.parametrize("name", NAMES)
def test_empty_input(name: str) -> None:
    est = make(name, 0)
    est.fit(np.zeros((0, 3)))
    assert est.score(np.zeros((0, 3))).shape == (0,)
    assert est.score([]).shape == (0,)
    # unfitted: every row scores 0.0 (no model, no alarm)
    assert est.score(np.ones((2, 3))).tolist() == [0.0, 0.0]
    assert est.score_one({}) == 0.0
    assert est.score_one({"a": 1.0}) == 0.0


@pytest.mark.parametrize("name", NAMES)
def test_constant_features(name: str) -> None:
    X = np.ones((300, 3))
    scores = make(name, 0).fit(X).score(X)
    assert scores.shape == (300,)
    assert np.all(np.isfinite(scores))
    assert np.ptp(scores) < 1e-9  # identical rows, identical scores


@pytest.mark.parametrize("name", NAMES)
def test_nan_and_inf_give_finite_scores(name: str) -> None:
    X = _blob()
    X[::7, 1] = np.nan
    X[::11, 2] = np.inf
    X[5, 0] = -np.inf
    X[:, 3] = np.nan  # a column that is all NaN
    est = make(name, 0).fit(X)
    scores = est.score(X)
    assert np.all(np.isfinite(scores))
    assert math.isfinite(est.score_one({"f0": float("nan"), "f1": float("inf")}))


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_with_a_seed(name: str) -> None:
    X = _blob()
    a = make(name, 7).fit(X).score(X)
    b = make(name, 7).fit(X).score(X)
    assert np.array_equal(a, b)
    s1, s2 = make(name, 7), make(name, 7)
    for row in X[:300]:
        x = {f"f{i}": float(v) for i, v in enumerate(row)}
        s1.learn_one(x)
        s2.learn_one(x)
    probe = {"f0": 0.3, "f1": -0.2, "f2": 0.1, "f3": 0.0}
    assert s1.score_one(probe) == s2.score_one(probe)


@pytest.mark.parametrize("name", NAMES)
def test_obvious_outlier_scores_higher_batch(name: str) -> None:
    X = _blob()
    X = np.vstack([X, [[12.0, -12.0, 12.0, -12.0]]])
    scores = make(name, 0).fit(X).score(X)
    assert scores[-1] > np.percentile(scores[:-1], 99)


@pytest.mark.parametrize("name", NAMES)
def test_obvious_outlier_scores_higher_streaming(name: str) -> None:
    est = make(name, 0)
    for row in _blob(n=600):
        est.learn_one({f"f{i}": float(v) for i, v in enumerate(row)})
    inlier = est.score_one({"f0": 0.0, "f1": 0.0, "f2": 0.0, "f3": 0.0})
    outlier = est.score_one({"f0": 9.0, "f1": -9.0, "f2": 9.0, "f3": -9.0})
    assert outlier > inlier


@pytest.mark.parametrize("name", NAMES)
def test_width_changes_are_tolerated(name: str) -> None:
    est = make(name, 0).fit(_blob(d=4))
    assert est.score(np.zeros((2, 6))).shape == (2,)  # extra columns cut
    assert np.all(np.isfinite(est.score(np.zeros((2, 2)))))  # missing columns imputed
    est2 = make(name, 0)
    for i in range(400):
        est2.learn_one({"a": float(i % 5)} if i < 200 else {"a": float(i % 5), "b": 1.0})
    assert math.isfinite(est2.score_one({"b": 2.0, "c": "not-a-number"}))  # type: ignore[dict-item]
