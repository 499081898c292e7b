"""Drift between an approved training set and a new one, feature by feature and jointly.

- PSI (population stability index) over the approved set's quantile bins: the common
  rule of thumb reads < 0.1 as stable, 0.1-0.25 as moderate and > 0.25 as a significant
  shift. It sees where mass moved, bin by bin.
- KS: the largest gap between the two empirical CDFs. With tens of thousands of rows any
  gap is "significant", so the statistic itself is thresholded, not its p-value.
- A classifier two-sample test: train a small classifier to tell approved rows from new
  rows; an out-of-fold AUC near 0.5 means it cannot, well above 0.5 means the sets differ,
  including in combinations of features that no single-feature test sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

F64 = NDArray[np.float64]

#: Floor on a bin's share, so an empty bin gives a large but finite PSI term.
_EPS = 1e-4


@dataclass(frozen=True, slots=True)
class DriftThresholds:
    """When a shift fails the check (defaults: PSI's "significant", a KS gap of 0.2, and
    a two-sample AUC a small classifier cannot reach on two samples of one population)."""

    psi: float = 0.25
    ks: float = 0.2
    auc: float = 0.65


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    feature: str
    psi: float
    ks: float


@dataclass(frozen=True, slots=True)
class DriftReport:
    features: tuple[FeatureDrift, ...]
    two_sample_auc: float
    thresholds: DriftThresholds

    def failures(self) -> list[str]:
        """One line per feature or test over its threshold (empty: no drift)."""
        t = self.thresholds
        out = [
            f"feature {f.feature}: PSI {f.psi:.3f} (> {t.psi}), KS {f.ks:.3f}"
            for f in self.features
            if f.psi > t.psi or f.ks > t.ks
        ]
        if self.two_sample_auc > t.auc:
            out.append(
                f"classifier two-sample test: AUC {self.two_sample_auc:.3f} (> {t.auc}): "
                "a classifier tells the approved set from the new one"
            )
        return out


def psi_from_shares(expected: F64, actual: F64) -> float:
    """PSI of two bin-share vectors (each summing to 1)."""
    e = np.maximum(np.asarray(expected, dtype=np.float64), _EPS)
    a = np.maximum(np.asarray(actual, dtype=np.float64), _EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def bin_shares(values: F64, edges: F64) -> F64:
    """Share of ``values`` in each bin cut at the inner ``edges`` (len(edges) + 1 bins);
    NaN counts in a bin of its own at the end."""
    v = np.asarray(values, dtype=np.float64)
    nan = np.isnan(v)
    idx = np.searchsorted(edges, v[~nan], side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype(np.float64)
    counts = np.append(counts, float(nan.sum()))
    return counts / max(len(v), 1)


def quantile_edges(values: F64, bins: int = 10) -> F64:
    """Distinct inner cut points at the quantiles of ``values`` (NaN ignored)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return np.zeros(0)
    qs = np.quantile(v, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(qs)


def ks_statistic(a: F64, b: F64) -> float:
    """Two-sample Kolmogorov-Smirnov statistic (NaN dropped; 0 when a side is empty)."""
    x = np.sort(np.asarray(a, dtype=np.float64)[~np.isnan(a)])
    y = np.sort(np.asarray(b, dtype=np.float64)[~np.isnan(b)])
    if x.size == 0 or y.size == 0:
        return 0.0
    grid = np.concatenate([x, y])
    cdf_x = np.searchsorted(x, grid, side="right") / x.size
    cdf_y = np.searchsorted(y, grid, side="right") / y.size
    return float(np.max(np.abs(cdf_x - cdf_y)))


def two_sample_auc(a: F64, b: F64, seed: int = 0, folds: int = 4) -> float:
    """Out-of-fold ROC AUC of gradient-boosted trees telling rows of ``a`` from rows of
    ``b`` (equal-sized samples are drawn from the larger side). 0.5: indistinguishable."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(seed)
    n = min(len(a), len(b))
    if n < 2 * folds:
        return 0.5
    xa = a[rng.choice(len(a), n, replace=False)]
    xb = b[rng.choice(len(b), n, replace=False)]
    x = np.vstack([xa, xb]).astype(np.float64)
    y = np.r_[np.zeros(n), np.ones(n)]
    scores = np.zeros(2 * n)
    split = StratifiedKFold(folds, shuffle=True, random_state=seed)
    with threadpool_limits(1):  # OpenMP threads cost more than they save on small sets
        for train, test in split.split(x, y):
            clf = HistGradientBoostingClassifier(max_iter=60, max_leaf_nodes=15, random_state=seed)
            clf.fit(x[train], y[train])
            scores[test] = clf.predict_proba(x[test])[:, 1]
    return float(roc_auc_score(y, scores))
