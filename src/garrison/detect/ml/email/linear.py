"""L2-regularised logistic regression with non-negative weights where asked.

scikit-learn's LogisticRegression cannot bound single coefficients; the structural features
marked as phishing evidence (``structure.SIGNS``) need a weight >= 0, so the model cannot
learn "a Reply-To elsewhere means benign" from mailing lists that set Reply-To to the list.
Objective: scikit-learn's ``C * sum_i s_i * logloss_i + 0.5 * |w|^2``.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

F64 = NDArray[np.float64]


def fit_bounded_logistic(
    x: sparse.csr_matrix,
    y: NDArray[np.int64],
    sample_weight: F64,
    nonneg: NDArray[np.bool_],
    c: float,
    seed: int = 0,
    max_iter: int = 300,
    rounds: int = 6,
) -> tuple[F64, float]:
    """Weights and bias, with ``w[j] >= 0`` wherever ``nonneg[j]``.

    Active set on scikit-learn's L-BFGS solver: fit; a constrained weight that came out
    negative has its column zeroed (weight 0, the bound) and the model is refitted (warm
    start), until none is negative.
    At the bound the KKT conditions of the bounded problem hold for those weights, so this
    is the bounded optimum up to the solver's tolerance whenever it stops before ``rounds``.
    """
    keep = np.ones(x.shape[1], dtype=np.float64)
    w = np.zeros(x.shape[1])
    b = 0.0
    clf = LogisticRegression(
        C=c, solver="lbfgs", max_iter=max_iter, random_state=seed, warm_start=True
    )
    for _ in range(rounds):
        xm = x @ sparse.diags(keep) if (keep == 0).any() else x
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter is the budget
            clf.fit(xm, y, sample_weight=sample_weight)
        w = clf.coef_[0].astype(np.float64) * keep
        b = float(clf.intercept_[0])
        negative = nonneg & (w < 0)
        if not negative.any():
            break
        keep[negative] = 0.0
    w[nonneg & (w < 0)] = 0.0
    return w, b


def balanced_weights(y: NDArray[np.int64]) -> F64:
    """Each class weighs the same in total (equal priors), mean weight 1."""
    pos = max(int((y == 1).sum()), 1)
    neg = max(int((y == 0).sum()), 1)
    n = len(y)
    return np.where(y == 1, n / (2.0 * pos), n / (2.0 * neg)).astype(np.float64)


def fit_platt(logits: F64, y: NDArray[np.int64]) -> tuple[float, float]:
    """Sigmoid a*logit+b fitted on held-out logits, classes weighted equally."""
    clf = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
    clf.fit(logits.reshape(-1, 1), y, sample_weight=balanced_weights(y))
    return float(clf.coef_[0][0]), float(clf.intercept_[0])


def threshold_at_fpr(benign_scores: F64, fpr: float) -> float:
    """The smallest score whose share of benign scores at or above it is at most ``fpr``."""
    if len(benign_scores) == 0:
        return 0.5
    ordered = np.sort(benign_scores)[::-1]
    allowed = int(np.floor(fpr * len(ordered)))
    if allowed >= len(ordered):
        return float(ordered[-1])
    return float(np.nextafter(ordered[allowed], np.inf))
