"""Label noise and poisoning: which training records carry a label the data disputes.

Three detectors over numeric features and 0/1 labels, each a score per record (higher is
more suspect):

- ``knn_disagreement``: the share of a record's k nearest neighbours (standardised
  features, the record itself excluded) whose label differs from its own. A flipped label,
  or a malicious record relabelled benign with a trigger added (a backdoor), sits among
  records of the other class: the trigger changes a few features, the rest still look like
  where the record came from.
- ``confident_learning``: out-of-fold predicted probability of the given label, against the
  per-class threshold of confident learning (the mean self-confidence of the class): a
  record is suspect when its given label is less likely than that and the other label at
  least as likely as its own class's threshold.
- ``spectral_scores``: per class, the squared projection of the centred features on the
  top singular vector (spectral signatures): a poisoned sub-population pulls that direction
  towards itself.

Thresholds are the caller's: ``flag`` keeps records above a score cut-off. Any detector
must be tried on clean data first (ART's detectors were reported to flag all clean data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Suspects:
    """Indices of the flagged records and every record's score."""

    indices: I64
    scores: F64
    threshold: float

    @property
    def share(self) -> float:
        return float(len(self.indices) / max(len(self.scores), 1))


def standardise(x: F64) -> F64:
    """Columns centred on the median and scaled by the IQR (robust to a poisoned tail);
    NaN becomes 0 (the median)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        med = np.nanmedian(x, axis=0) if len(x) else np.zeros(x.shape[1])
        q75, q25 = np.nanpercentile(x, [75, 25], axis=0) if len(x) else (med, med)
    scale = q75 - q25
    std = np.nanstd(x, axis=0) if len(x) else np.ones(x.shape[1])
    scale = np.where(scale > 1e-9, scale, np.where(std > 1e-9, std, 1.0))
    z = (x - np.nan_to_num(med)) / scale
    return np.clip(np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0), -20, 20)


def knn_disagreement(x: F64, y: I64, k: int = 10) -> F64:
    """Share of each record's ``k`` nearest neighbours with another label (see module)."""
    from sklearn.neighbors import NearestNeighbors

    y = np.asarray(y)
    n = len(y)
    if n < 2:
        return np.zeros(n)
    k = min(k, n - 1)
    z = standardise(x)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(z)
    _, idx = nn.kneighbors(z)
    # drop the record itself (an exact duplicate may come first instead: same effect)
    neighbours = np.where(idx[:, :1] == np.arange(n)[:, None], idx[:, 1:], idx[:, :-1])
    return np.asarray((y[neighbours] != y[:, None]).mean(1), dtype=np.float64)


def out_of_fold_probability(x: F64, y: I64, folds: int = 4, seed: int = 0) -> F64:
    """P(label = 1) for every record from gradient-boosted trees that did not see it."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y)
    p = np.full(len(y), float(y.mean()) if len(y) else 0.5)
    if len(np.unique(y)) < 2 or np.bincount(y).min() < folds:
        return p
    split = StratifiedKFold(folds, shuffle=True, random_state=seed)
    with threadpool_limits(1):  # OpenMP threads cost more than they save on small sets
        for train, test in split.split(x, y):
            clf = HistGradientBoostingClassifier(max_iter=100, random_state=seed)
            clf.fit(x[train], y[train])
            p[test] = clf.predict_proba(x[test])[:, 1]
    return p


def confident_learning(p1: F64, y: I64) -> F64:
    """Suspicion from out-of-fold probabilities: how far the given label's probability
    falls below its class threshold, 0 for records confident learning does not put off
    the diagonal (see module)."""
    y = np.asarray(y)
    p = np.c_[1 - p1, p1]
    given = p[np.arange(len(y)), y]
    other = p[np.arange(len(y)), 1 - y]
    thr = np.array([p[y == c, c].mean() if (y == c).any() else 0.5 for c in (0, 1)])
    off = (given < thr[y]) & (other >= thr[1 - y])
    return np.where(off, 1.0 - given, 0.0)


def spectral_scores(x: F64, y: I64) -> F64:
    """Per class, squared projection on the top right singular vector of the centred,
    standardised features (spectral signatures), scaled by the class's median score."""
    z = standardise(x)
    y = np.asarray(y)
    out = np.zeros(len(y))
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        if len(rows) < 3:
            continue
        centred = z[rows] - z[rows].mean(0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        s = (centred @ vt[0]) ** 2
        out[rows] = s / max(float(np.median(s)), 1e-12)
    return out


def flag(scores: F64, threshold: float) -> Suspects:
    """The records whose score is above ``threshold``."""
    s = np.asarray(scores, dtype=np.float64)
    return Suspects(np.flatnonzero(s > threshold), s, threshold)


def enriched_columns(
    x: Any, suspect: NDArray[np.bool_], min_count: int = 5, min_share: float = 0.05,
    min_ratio: float = 20.0, elsewhere: Any = None,
) -> I64:  # fmt: skip
    """Columns of the binary matrix ``x`` (rows x features, sparse or dense) set far more
    often in the ``suspect`` rows than in the others: at least ``min_count`` and
    ``min_share`` of the suspects, and ``min_ratio`` times the others' rate (and, given
    ``elsewhere``, another matrix of the same columns, ``min_ratio`` times its rate too).

    A backdoor's rows share their trigger; the first detector catches most of them but
    not all, and a few dozen triggered rows left in the set are enough to teach the model
    the trigger. What the caught rows share, and the rest of the set does not, is the
    trigger itself: every remaining row that carries it can then be found."""
    suspect = np.asarray(suspect, dtype=bool)
    n1, n0 = int(suspect.sum()), int((~suspect).sum())
    if n1 == 0 or n0 == 0:
        return np.zeros(0, dtype=np.int64)
    c1 = np.asarray((x[suspect] != 0).sum(0)).ravel().astype(np.float64)
    c0 = np.asarray((x[~suspect] != 0).sum(0)).ravel().astype(np.float64)
    rate1, rate0 = c1 / n1, (c0 + 1.0) / n0
    keep = (c1 >= max(min_count, min_share * n1)) & (rate1 >= min_ratio * rate0)
    if elsewhere is not None and elsewhere.shape[0]:
        c2 = np.asarray((elsewhere != 0).sum(0)).ravel().astype(np.float64)
        keep &= rate1 >= min_ratio * (c2 + 1.0) / elsewhere.shape[0]
    return np.flatnonzero(keep).astype(np.int64)


def rows_with_columns(x: Any, columns: I64) -> NDArray[np.bool_]:
    """Rows of ``x`` in which any of ``columns`` is set."""
    if len(columns) == 0:
        return np.zeros(x.shape[0], dtype=bool)
    return np.asarray((x[:, columns] != 0).sum(1)).ravel() > 0
