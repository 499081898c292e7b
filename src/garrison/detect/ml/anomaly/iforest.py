"""scikit-learn's IsolationForest behind the estimator interface (batch first).

``score`` is the anomaly score of the original paper, ``-score_samples(X)``, in (0, 1]:
about 0.5 for ordinary points, close to 1 for points isolated in very few splits.
Streaming use keeps a bounded buffer of the most recent ``buffer_size`` samples and refits
on it every ``refit_every`` new samples (from ``min_samples`` on); until then ``score_one``
is 0.0.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.ensemble import IsolationForest

from garrison.detect.ml.anomaly.protocol import BaseEstimator, as_matrix


class IsolationForestEstimator(BaseEstimator):
    name = "iforest"
    version = "sklearn-iforest-1"

    def __init__(
        self,
        seed: int = 0,
        n_estimators: int = 200,
        max_samples: int | str = 256,
        buffer_size: int = 4096,
        refit_every: int = 256,
        min_samples: int = 32,
    ) -> None:
        super().__init__(seed)
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.model: IsolationForest | None = None
        self.width: int | None = None
        self.buffer: deque[np.ndarray] = deque(maxlen=max(1, buffer_size))
        self.refit_every = max(1, refit_every)
        self.min_samples = max(2, min_samples)
        self._since_fit = 0

    def fit(self, X: Any) -> IsolationForestEstimator:
        arr = as_matrix(X)
        if arr.shape[0] == 0 or arr.shape[1] == 0:
            return self
        self._learn_fill(arr)
        clean = self._clean(arr)
        samples: int | str = self.max_samples
        if isinstance(samples, int):
            samples = min(samples, clean.shape[0])
        self.model = IsolationForest(
            n_estimators=self.n_estimators, max_samples=samples, random_state=self.seed
        )
        self.model.fit(clean)
        self.width = clean.shape[1]
        return self

    def score(self, X: Any) -> np.ndarray:
        arr = as_matrix(X)
        if arr.shape[0] == 0:
            return np.zeros(0)
        if self.model is None:
            return np.zeros(arr.shape[0])
        clean = self._clean(self._width_guard(arr, self.width))
        return np.asarray(-self.model.score_samples(clean), dtype=float)

    def learn_one(self, x: Mapping[str, float]) -> None:
        self.buffer.append(self._vector(x, grow=True))
        self._since_fit += 1
        if len(self.buffer) >= self.min_samples and (
            self.model is None or self._since_fit >= self.refit_every
        ):
            width = len(self.feature_names)
            rows = np.vstack([self._width_guard(r.reshape(1, -1), width) for r in self.buffer])
            self.fit(rows)
            self._since_fit = 0

    def score_one(self, x: Mapping[str, float]) -> float:
        if self.model is None:
            return 0.0
        return float(self.score(self._vector(x, grow=False).reshape(1, -1))[0])
