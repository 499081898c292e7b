"""Why a vector is an outlier: exact occlusion contributions, model-agnostic.

For an outlier ``x`` and each feature ``j``, the feature is set back to the population
median and the vector rescored: ``contribution_j = score(x) - score(x with x_j = median_j)``.
It is the model's own answer to "how much less anomalous would this be if only this
feature were ordinary?", works for any estimator behind the protocol (trees or not), and
costs one batch of ``d`` rescorings per explained vector.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from garrison.detect.ml.anomaly.protocol import BaseEstimator


def occlusion(
    estimator: BaseEstimator, x: np.ndarray, medians: np.ndarray, names: Sequence[str]
) -> list[tuple[str, float]]:
    """(feature, contribution) sorted by contribution, largest first."""
    x = np.asarray(x, dtype=float).reshape(1, -1)
    base = float(estimator.score(x)[0])
    probes = np.repeat(x, x.shape[1], axis=0)
    idx = np.arange(x.shape[1])
    probes[idx, idx] = medians[: x.shape[1]]
    scores = estimator.score(probes)
    contributions = [(str(names[j]), round(base - float(scores[j]), 6)) for j in range(x.shape[1])]
    contributions.sort(key=lambda kv: -kv[1])
    return contributions


def robust_z(scores: np.ndarray, min_spread: float = 0.0) -> np.ndarray:
    """(score - median) / max(1.4826 * MAD, ``min_spread``); a zero MAD falls back to the
    standard deviation."""
    if scores.size == 0:
        return scores
    med = float(np.median(scores))
    mad = float(np.median(np.abs(scores - med))) * 1.4826
    spread = max(mad if mad > 1e-12 else float(np.std(scores)), min_spread)
    if spread <= 1e-12:
        return np.zeros_like(scores)
    return (scores - med) / spread
