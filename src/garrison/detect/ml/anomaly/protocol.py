"""The one small interface every unsupervised anomaly estimator follows.

Two ways in, one meaning out -- *higher is more anomalous*:

* batch: ``fit(X)`` then ``score(X)`` on 2-D arrays (rows are samples);
* streaming: ``learn_one(x)`` / ``score_one(x)`` on feature mappings (name -> number).

``BaseEstimator`` gives every implementation the same answers to bad input, which is what
the shared contract suite (tests/contract/test_estimators.py) checks for each of them:

* empty input: ``fit`` on zero rows leaves the estimator unfitted; ``score`` of zero rows is
  an empty array; scoring before any fit gives 0.0 for every row ("no model, no alarm");
* NaN / +-inf cells are replaced by the column median seen at fit time (0.0 before any
  fit, or for a column that was all-NaN), so scores are always finite;
* a feature name never seen before in ``learn_one`` / ``score_one`` joins the feature
  list; a missing one counts as NaN;
* the same ``seed`` and the same data give the same scores.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Estimator(Protocol):
    name: str
    version: str

    def fit(self, X: Any) -> Estimator: ...

    def score(self, X: Any) -> np.ndarray: ...

    def learn_one(self, x: Mapping[str, float]) -> None: ...

    def score_one(self, x: Mapping[str, float]) -> float: ...


def as_matrix(X: Any) -> np.ndarray:
    """A float 2-D array; a 1-D input is one sample, ``None`` or ``[]`` zero samples."""
    if X is None:
        return np.zeros((0, 0))
    arr = np.asarray(X, dtype=float)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr.reshape(1, -1) if arr.size else np.zeros((0, 0))
    elif arr.ndim > 2:
        arr = arr.reshape(arr.shape[0], -1)
    return arr


class BaseEstimator(ABC):
    """Imputation, feature naming and the empty/unfitted conventions."""

    name = "base"
    version = "1"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.fill: np.ndarray | None = None
        self.feature_names: list[str] = []

    @abstractmethod
    def fit(self, X: Any) -> BaseEstimator: ...

    @abstractmethod
    def score(self, X: Any) -> np.ndarray: ...

    @abstractmethod
    def learn_one(self, x: Mapping[str, float]) -> None: ...

    @abstractmethod
    def score_one(self, x: Mapping[str, float]) -> float: ...

    # -- cleaning ----------------------------------------------------------------
    def _learn_fill(self, X: np.ndarray) -> None:
        with np.errstate(all="ignore"):
            finite = np.where(np.isfinite(X), X, np.nan)
            if finite.size:
                all_nan = np.all(np.isnan(finite), axis=0)
                safe = np.where(all_nan[None, :], 0.0, finite)
                med = np.nanmedian(safe, axis=0)
            else:
                med = np.zeros(X.shape[1])
        self.fill = np.nan_to_num(med, nan=0.0, posinf=0.0, neginf=0.0)

    def _clean(self, X: np.ndarray) -> np.ndarray:
        X = np.array(X, dtype=float, copy=True)
        bad = ~np.isfinite(X)
        if bad.any():
            fill = (
                self.fill
                if self.fill is not None and self.fill.size == X.shape[1]
                else np.zeros(X.shape[1])
            )
            X[bad] = np.broadcast_to(fill, X.shape)[bad]
        return X

    def _vector(self, x: Mapping[str, float], grow: bool) -> np.ndarray:
        if grow:
            for key in x:
                if key not in self.feature_names:
                    self.feature_names.append(str(key))
        out = np.full(len(self.feature_names), np.nan)
        for i, key in enumerate(self.feature_names):
            if key in x:
                try:
                    out[i] = float(x[key])
                except (TypeError, ValueError):
                    out[i] = np.nan
        return out

    @staticmethod
    def _width_guard(X: np.ndarray, width: int | None) -> np.ndarray:
        """Pad (NaN) or cut columns so a row fits a model trained on ``width`` columns."""
        if width is None or X.shape[1] == width:
            return X
        if X.shape[1] > width:
            return X[:, :width]
        pad = np.full((X.shape[0], width - X.shape[1]), np.nan)
        return np.hstack([X, pad])
