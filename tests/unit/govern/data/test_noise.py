"""Label-noise detectors on numeric data: flipped labels are found, and clean data is not
flagged wholesale (ART's detectors were reported to flag 100 % of clean data: every
detector is tried on clean data first)."""

from __future__ import annotations

import numpy as np

from garrison.govern.data.noise import (
    confident_learning,
    flag,
    knn_disagreement,
    out_of_fold_probability,
    spectral_scores,
    standardise,
)


def _blobs(n: int = 1200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(np.int64)
    x = rng.normal(size=(n, 5)) + 3.0 * y[:, None]
    return x, y


def _flip(y: np.ndarray, share: float, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(y), int(share * len(y)), replace=False)
    out = y.copy()
    out[idx] = 1 - out[idx]
    mask = np.zeros(len(y), dtype=bool)
    mask[idx] = True
    return out, mask


def test_knn_disagreement_finds_flips_and_spares_clean_rows():
    x, y = _blobs()
    assert flag(knn_disagreement(x, y), 0.5).share < 0.02  # clean data first
    noisy, flipped = _flip(y, 0.05)
    found = flag(knn_disagreement(x, noisy), 0.5)
    hit = np.isin(np.flatnonzero(flipped), found.indices).mean()
    fp = np.isin(np.flatnonzero(~flipped), found.indices).mean()
    assert hit >= 0.9 and fp <= 0.05


def test_confident_learning_finds_flips_and_spares_clean_rows():
    x, y = _blobs()
    assert flag(confident_learning(out_of_fold_probability(x, y), y), 0.5).share < 0.02
    noisy, flipped = _flip(y, 0.05)
    found = flag(confident_learning(out_of_fold_probability(x, noisy), noisy), 0.5)
    assert np.isin(np.flatnonzero(flipped), found.indices).mean() >= 0.9
    assert np.isin(np.flatnonzero(~flipped), found.indices).mean() <= 0.05


def test_spectral_scores_single_out_a_planted_cluster():
    x, y = _blobs()
    rng = np.random.default_rng(3)
    planted = rng.choice(np.flatnonzero(y == 0), 30, replace=False)
    x[planted] += np.array([0.0, 0.0, 0.0, 0.0, 6.0])
    scores = spectral_scores(x, y)
    top = np.argsort(-scores)[:45]
    assert np.isin(planted, top).mean() >= 0.9


def test_standardise_survives_constant_and_nan_columns():
    x = np.c_[np.ones(10), np.r_[np.nan, np.arange(9.0)], np.full(10, np.inf)]
    z = standardise(x)
    assert np.isfinite(z).all() and z.shape == x.shape


def test_degenerate_inputs_do_not_crash():
    assert knn_disagreement(np.zeros((1, 2)), np.array([1])).tolist() == [0.0]
    p = out_of_fold_probability(np.zeros((5, 2)), np.ones(5, dtype=np.int64))
    assert p.tolist() == [1.0] * 5


def test_enriched_columns_find_what_suspects_share_and_nothing_on_clean_data():
    from scipy import sparse

    from garrison.govern.data.noise import enriched_columns, rows_with_columns

    rng = np.random.default_rng(5)
    x = (rng.random((2000, 300)) < 0.05).astype(np.float64)
    suspect = np.zeros(2000, dtype=bool)
    suspect[rng.choice(2000, 80, replace=False)] = True
    assert enriched_columns(sparse.csr_matrix(x), suspect).size == 0  # nothing shared
    triggered = [*np.flatnonzero(suspect)[:60].tolist(), 5, 17, 33, 700, 1500]  # some missed
    x[:, 299] = 0.0  # a trigger is new to the data
    x[triggered, 299] = 1.0
    cols = enriched_columns(sparse.csr_matrix(x), suspect)
    assert cols.tolist() == [299]
    assert set(np.flatnonzero(rows_with_columns(sparse.csr_matrix(x), cols))) == set(triggered)
    # a column as common in the other label's rows is no trigger
    other = np.zeros((500, 300))
    other[:, 299] = 1.0
    assert enriched_columns(sparse.csr_matrix(x), suspect, elsewhere=other).size == 0
