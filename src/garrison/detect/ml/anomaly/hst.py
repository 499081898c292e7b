"""river's HalfSpaceTrees behind the estimator interface (streaming first).

Half-space trees assume every feature lies in [0, 1]; the wrapper keeps a running
min/max per feature and scales (and clips) each sample before it reaches the trees. The
trees compare mass in the current window with the previous one, so nothing is scored
until ``window_size`` samples have been learnt (score 0.0 before). ``fit`` on a batch sets
the scaling from the whole batch first, learns the rows in a seeded random order (a batch
has no order, a file often has one), and, for a batch smaller than two windows, shrinks
the window to half the batch so the model has a reference window at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from garrison.detect.ml.anomaly.protocol import BaseEstimator, as_matrix


class HalfSpaceTreesEstimator(BaseEstimator):
    name = "hst"
    version = "river-hst-1"

    def __init__(
        self, seed: int = 0, n_trees: int = 25, height: int = 10, window_size: int = 250
    ) -> None:
        super().__init__(seed)
        self.n_trees = n_trees
        self.height = height
        self.window_size = max(2, window_size)
        self.lo: dict[str, float] = {}
        self.hi: dict[str, float] = {}
        self.learnt = 0
        self.model = self._new(self.window_size)

    def _new(self, window: int) -> Any:
        # river (and the scipy stack it pulls) costs ~0.8 s to import: only when used, so
        # every other command starts without it.
        from river.anomaly import HalfSpaceTrees

        self._window = window
        return HalfSpaceTrees(
            n_trees=self.n_trees, height=self.height, window_size=window, seed=self.seed
        )

    # -- scaling -------------------------------------------------------------------
    def _observe_range(self, x: Mapping[str, float]) -> None:
        for key, value in x.items():
            if not np.isfinite(value):
                continue
            self.lo[key] = min(self.lo.get(key, value), value)
            self.hi[key] = max(self.hi.get(key, value), value)

    def _scaled(self, x: Mapping[str, float]) -> dict[str, float]:
        out = {}
        for key, value in x.items():
            lo, hi = self.lo.get(key), self.hi.get(key)
            if lo is None or hi is None or hi <= lo or not np.isfinite(value):
                out[key] = 0.5 if lo is not None and np.isfinite(value) else 0.0
                continue
            out[key] = float(min(1.0, max(0.0, (value - lo) / (hi - lo))))
        return out

    def _clean_one(self, x: Mapping[str, float]) -> dict[str, float]:
        """Numbers only; NaN / inf replaced by the learnt fill (0.0 before any)."""
        vec = self._vector(x, grow=True)
        fill = self.fill if self.fill is not None and self.fill.size == vec.size else None
        out = {}
        for i, key in enumerate(self.feature_names):
            v = vec[i]
            if not np.isfinite(v):
                v = float(fill[i]) if fill is not None else 0.0
            out[key] = float(v)
        return out

    # -- streaming -------------------------------------------------------------------
    def learn_one(self, x: Mapping[str, float]) -> None:
        clean = self._clean_one(x)
        self._observe_range(clean)
        self.model.learn_one(self._scaled(clean))
        self.learnt += 1

    def score_one(self, x: Mapping[str, float]) -> float:
        if self.learnt < self._window:
            return 0.0
        clean = self._clean_one(x)
        return float(self.model.score_one(self._scaled(clean)))

    # -- batch -------------------------------------------------------------------------
    def _scaled_matrix(self, clean: np.ndarray) -> list[dict[str, float]]:
        """``_scaled`` for a whole matrix at once (numpy instead of a loop per cell)."""
        names = self.feature_names
        lo = np.asarray([self.lo.get(n, np.nan) for n in names], dtype=float)
        hi = np.asarray([self.hi.get(n, np.nan) for n in names], dtype=float)
        span = hi - lo
        with np.errstate(all="ignore"):
            out = np.clip((clean - lo) / span, 0.0, 1.0)
        flat = ~(span > 0)
        out[:, flat] = np.where(np.isnan(lo[flat]), 0.0, 0.5)
        return [dict(zip(names, row, strict=True)) for row in out.tolist()]

    def fit(self, X: Any) -> HalfSpaceTreesEstimator:
        arr = as_matrix(X)
        if arr.shape[0] == 0 or arr.shape[1] == 0:
            return self
        self._learn_fill(arr)
        clean = self._clean(arr)
        self.feature_names = [f"f{i}" for i in range(clean.shape[1])]
        self.lo = {n: float(v) for n, v in zip(self.feature_names, clean.min(axis=0), strict=True)}
        self.hi = {n: float(v) for n, v in zip(self.feature_names, clean.max(axis=0), strict=True)}
        window = min(self.window_size, max(2, clean.shape[0] // 2))
        self.model = self._new(window)
        self.learnt = 0
        # A batch has no order; files often do (outliers last), and the trees' reference
        # window would then be made of outliers. Learn in a seeded random order instead.
        order = np.random.default_rng(self.seed).permutation(clean.shape[0])
        for row in self._scaled_matrix(clean[order]):
            self.model.learn_one(row)
            self.learnt += 1
        return self

    def score(self, X: Any) -> np.ndarray:
        arr = as_matrix(X)
        if arr.shape[0] == 0:
            return np.zeros(0)
        if self.learnt < self._window:
            return np.zeros(arr.shape[0])
        width = len(self.feature_names)
        clean = self._clean(self._width_guard(arr, width))
        return np.asarray(
            [self.model.score_one(row) for row in self._scaled_matrix(clean)], dtype=float
        )
