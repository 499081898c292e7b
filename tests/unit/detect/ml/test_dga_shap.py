"""Exact TreeSHAP (``dga.shap``) against a brute-force Shapley computation, the additivity
property on the shipped DGA model, and (when the ``shap`` package is installed) agreement
with its TreeExplainer.

The brute force is written independently of the module: the game is Lundberg et al.'s
algorithm 1 (EXPVALUE: follow the row on features in S, the cover-weighted average of both
children otherwise), and each feature's value is the Shapley sum over every subset of the
other features.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from garrison.detect.ml.dga.model import FEATURES, load_model
from garrison.detect.ml.dga.scoring import score_lines
from garrison.detect.ml.dga.shap import TreeShap, leaf_shap


def _expvalue(nodes: np.ndarray, row: np.ndarray, subset: frozenset[int], idx: int = 0) -> float:
    node = nodes[idx]
    if node["is_leaf"]:
        return float(node["value"])
    left, right = int(node["left"]), int(node["right"])
    feature = int(node["feature_idx"])
    if feature in subset:
        value = row[feature]
        goes_left = (
            bool(node["missing_go_to_left"])
            if np.isnan(value)
            else (value <= node["num_threshold"])
        )
        return _expvalue(nodes, row, subset, left if goes_left else right)
    total = float(nodes[left]["count"]) + float(nodes[right]["count"])
    return (
        float(nodes[left]["count"]) * _expvalue(nodes, row, subset, left)
        + float(nodes[right]["count"]) * _expvalue(nodes, row, subset, right)
    ) / total


def _brute_force(gbm, row: np.ndarray) -> np.ndarray:
    m = row.shape[0]
    phi = np.zeros(m)
    players = range(m)
    for (predictor,) in gbm._predictors:
        nodes = predictor.nodes
        value = {
            s: _expvalue(nodes, row, frozenset(s))
            for k in range(m + 1)
            for s in itertools.combinations(players, k)
        }
        for i in players:
            others = [j for j in players if j != i]
            for k in range(m):
                weight = math.factorial(k) * math.factorial(m - k - 1) / math.factorial(m)
                for s in itertools.combinations(others, k):
                    with_i = tuple(sorted((*s, i)))
                    phi[i] += weight * (value[with_i] - value[s])
    return phi


def _toy_data(seed: int, n: int = 600, m: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, m))
    x[rng.random((n, m)) < 0.1] = np.nan  # missing values take the learnt side
    y = ((np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 1]) * np.nan_to_num(x[:, 2])) > 0).astype(int)
    return x, y


@pytest.mark.parametrize("seed", [1, 2])
def test_matches_brute_force_shapley_on_small_trees(seed):
    x, y = _toy_data(seed)
    gbm = HistGradientBoostingClassifier(
        max_iter=4, max_leaf_nodes=7, min_samples_leaf=5, random_state=seed
    ).fit(x, y)
    explainer = TreeShap(gbm)
    rows = x[:12]
    phi = explainer.shap_values(rows)
    for row, got in zip(rows, phi, strict=True):
        np.testing.assert_allclose(got, _brute_force(gbm, row), atol=1e-10)
    raw = gbm._raw_predict(rows).reshape(-1)
    np.testing.assert_allclose(phi.sum(1) + explainer.expected_value, raw, atol=1e-10)


def _repeats_on_a_path(nodes: np.ndarray, idx: int = 0, seen: tuple[int, ...] = ()) -> bool:
    node = nodes[idx]
    if node["is_leaf"]:
        return len(set(seen)) < len(seen)
    path = (*seen, int(node["feature_idx"]))
    return _repeats_on_a_path(nodes, int(node["left"]), path) or _repeats_on_a_path(
        nodes, int(node["right"]), path
    )


def test_regressor_and_repeated_features_on_a_path():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 3))
    y = np.sin(3 * x[:, 0]) + 0.3 * x[:, 1]  # many splits on feature 0 along one path
    gbm = HistGradientBoostingRegressor(max_iter=3, max_leaf_nodes=12, random_state=0).fit(x, y)
    assert any(_repeats_on_a_path(p.nodes) for (p,) in gbm._predictors)  # the point here
    explainer = TreeShap(gbm)
    for row in x[:8]:
        np.testing.assert_allclose(
            explainer.shap_values(row[None, :])[0], _brute_force(gbm, row), atol=1e-10
        )


def _leaf_game(one: np.ndarray, zero: np.ndarray, value: float):
    """f(S) of one leaf: its value times o_j for j in S and z_j for j outside S."""

    def game(s: tuple[int, ...]) -> float:
        return value * math.prod(float(one[j]) if j in s else zero[j] for j in range(len(one)))

    return game


def test_single_leaf_games_against_their_definition():
    rng = np.random.default_rng(4)
    for d in range(1, 7):
        zero = rng.uniform(0.05, 1.0, size=(30, d))
        one = rng.random((30, d)) < 0.5
        value = rng.normal(size=30)
        got = leaf_shap(one, zero, value)
        for r in range(30):
            game = _leaf_game(one[r], zero[r], float(value[r]))
            for k in range(d):
                want = sum(
                    math.factorial(len(s))
                    * math.factorial(d - len(s) - 1)
                    / math.factorial(d)
                    * (game(tuple(sorted((*s, k)))) - game(s))
                    for size in range(d)
                    for s in itertools.combinations([j for j in range(d) if j != k], size)
                )
                assert got[r, k] == pytest.approx(want, abs=1e-12)


def test_categorical_splits_are_refused():
    rng = np.random.default_rng(5)
    x = np.c_[rng.integers(0, 4, 300), rng.normal(size=300)]
    y = (x[:, 0] == 2).astype(int)
    gbm = HistGradientBoostingClassifier(max_iter=2, categorical_features=[0], random_state=0).fit(
        x, y
    )
    with pytest.raises(ValueError, match="categorical"):
        TreeShap(gbm)


NAMES = [
    "google",
    "xjwqkzpqvbn",
    "3f9a0c77d2e1b4",
    "thequickbrownfoxjumps",
    "a",
    "z" * 63,
    "mail-server-01",
    "qwpoeirutyalskdjfhg",
    "bookstore",
    "kjh23kj4h5",
]


def test_shipped_model_contributions_add_up_to_its_log_odds():
    model = load_model()
    _, x = model.score(NAMES, ["com"] * len(NAMES))
    phi = model.contributions(x)
    assert phi.shape == (len(NAMES), len(FEATURES))
    np.testing.assert_allclose(
        phi.sum(1) + model.explainer.expected_value, model.logit(x), atol=1e-4
    )
    # a batch gives each row the values it gets alone (no cross-row leakage)
    alone = np.vstack([model.contributions(x[i : i + 1]) for i in range(len(NAMES))])
    np.testing.assert_allclose(alone, phi, atol=1e-12)


def test_explanations_state_method_and_add_up():
    model = load_model()
    _, x = model.score(NAMES[:3], ["com"] * 3)
    for note, logit in zip(
        model.explain(NAMES[:3], x, top=len(FEATURES)), model.logit(x), strict=True
    ):
        attribution = note["attribution"]
        assert attribution["method"].startswith("TreeSHAP")
        assert attribution["log_odds"] == pytest.approx(float(logit), abs=1e-3)
        total = sum(f["contribution"] for f in note["top_features"])
        assert total + attribution["expected_log_odds"] == pytest.approx(float(logit), abs=0.01)


def test_score_lines_attributes_malicious_verdicts_only():
    model = load_model()
    rows = score_lines(["google.com", "xjwqkzpqvbnmtrd.com"], model)
    verdicts = {r["input"]: r for r in rows}
    assert verdicts["google.com"]["verdict"] == "benign"
    assert "top_features" not in verdicts["google.com"]["explanation"]
    assert verdicts["google.com"]["explanation"]["attribution"].startswith("computed for")
    assert verdicts["xjwqkzpqvbnmtrd.com"]["verdict"] == "malicious"
    assert verdicts["xjwqkzpqvbnmtrd.com"]["explanation"]["top_features"]
    every = score_lines(["google.com"], model, explain_all=True)[0]["explanation"]
    assert every["top_features"] and every["attribution"]["method"].startswith("TreeSHAP")


def test_agrees_with_the_shap_package_when_installed():
    shap = pytest.importorskip("shap", reason="optional cross-check against the shap package")
    model = load_model()
    _, x = model.score(NAMES, ["com"] * len(NAMES))
    reference = shap.TreeExplainer(model.gbm)
    np.testing.assert_allclose(model.contributions(x), reference.shap_values(x), atol=1e-9)
    assert model.explainer.expected_value == pytest.approx(
        float(np.ravel(reference.expected_value)[0]), abs=1e-9
    )
