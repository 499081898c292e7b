"""Ball augmentation (robust training against evasion) and its DGA training option."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.detect.ml.dga.robust import BallAugment
from garrison.detect.ml.dga.train import TrainParams


def _data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((60, 4))
    x[:5, 3] = np.nan
    y = (np.arange(60) < 30).astype(np.int64)
    return x, y, rng.random(60) + 0.5


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.01, 0.5), st.integers(1, 4))
def test_copies_stay_within_the_radius_keep_labels_nan_and_class_weight(
    seed: int, radius: float, copies: int
) -> None:
    x, y, w = _data(seed)
    controlled = np.array([True, True, True, False])
    aug = BallAugment(radius, copies, guard=False)
    xo, yo, wo = aug.apply(x, y, w, controlled, np.random.default_rng(seed))
    n = len(x)
    assert len(xo) == n + copies * 30 and np.all(yo[n:] == 1)
    np.testing.assert_array_equal(xo[:n], x)
    assert wo[:n][y == 1].sum() + wo[n:].sum() == pytest.approx(w[y == 1].sum())
    assert wo[:n][y == 0].sum() == pytest.approx(w[y == 0].sum())
    source = np.tile(np.flatnonzero(y == 1), copies)
    span = np.nanmax(x, 0) - np.nanmin(x, 0)
    moved = np.nan_to_num((xo[n:] - x[source]) / span)
    assert np.all(np.linalg.norm(moved, axis=1) <= radius + 1e-9)
    assert np.all(moved[:, ~controlled] == 0)
    np.testing.assert_array_equal(np.isnan(xo[n:]), np.isnan(x[source]))


def test_the_guard_keeps_only_copies_nearer_their_own_row_than_any_benign_row() -> None:
    x = np.array([[0.0, 0.0], [1.0, 1.0], [0.6, 0.6]])
    y = np.array([1, 0, 0])
    aug = BallAugment(radius=1.0, copies=200)
    xo, _, _ = aug.apply(x, y, np.ones(3), np.array([True, True]), np.random.default_rng(0))
    copies = xo[3:]
    assert 0 < len(copies) < 200  # some fell nearer the benign row, and were dropped
    own = np.linalg.norm(copies - x[0], axis=1)
    benign = np.linalg.norm(copies[:, None, :] - x[None, 1:], axis=2).min(1)
    assert np.all(own < benign)


def test_off_changes_nothing_and_is_not_written_into_the_params() -> None:
    x, y, w = _data(1)
    xo, yo, wo = BallAugment().apply(x, y, w, np.ones(4, dtype=bool), np.random.default_rng(0))
    np.testing.assert_array_equal(xo, x)
    np.testing.assert_array_equal(yo, y)
    np.testing.assert_array_equal(wo, w)
    assert "robust_radius" not in TrainParams().to_json()
    assert TrainParams(robust_radius=0.3).to_json()["robust_radius"] == 0.3


def test_the_training_option_trains_a_different_model_with_its_own_version() -> None:
    pytest.importorskip("wordsegment", reason="training needs the wordsegment word list")
    from garrison.detect.ml.dga.data import synthetic
    from garrison.detect.ml.dga.train import WordList, fit_model
    from tests.unit.detect.ml.test_dga_model import _benign

    params = TrainParams(
        per_family=100, synthetic_per_kind=50, gbm_max_iter=10, n_words=4000, hash_bits=10, folds=2
    )
    words = WordList.load(params)
    rng = np.random.default_rng(9)
    vocab, freq = words.common(500)
    data = synthetic("letters", 200, rng, vocab, freq).extend(_benign(words, 300, 2))
    plain, _ = fit_model(data, params, words)
    robust, _ = fit_model(data, replace(params, robust_radius=0.3), words)
    assert robust.version != plain.version
    assert robust.meta["params"]["robust_radius"] == 0.3
    assert "robust_radius" not in plain.meta["params"]
    x = np.nan_to_num(plain.features(data.labels, data.suffixes))
    y = data.y
    # probes on the segments between malicious and benign names: where the boundary sits
    t = np.linspace(0, 1, 21)[:, None, None]
    probes = (x[y == 1][:50] * (1 - t) + x[y == 0][:50] * t).reshape(-1, x.shape[1])
    moved = (robust.logit(probes) > 0).mean() - (plain.logit(probes) > 0).mean()
    assert moved > 0  # the robust trees call more of the way between them malicious
