"""Model-extraction tests over one client's query stream, in the model's feature space.

Two signals, each compared with what benign traffic does:

* **PRADA** (Juuti et al., "PRADA: Protecting against DNN Model Stealing Attacks", 2019):
  per predicted label, a growing set of the client's queries; every new query's minimum
  distance to the growing set of its label joins the distance set ``D`` (and the query joins
  the growing set when that distance exceeds the set's mean minus one standard deviation).
  In the paper natural queries give distances close to a normal distribution and
  synthesised ones do not, so a Shapiro-Wilk W below a threshold flags. Measured on the DGA
  model's features the picture is reversed: streams of real names give W 0.2-0.9 (the
  features are discrete and heavy-tailed), random vectors 0.95 and more. So the test flags a
  W outside the band ``[prada_low, prada_high]`` calibrated on benign traffic, over the
  last ``window`` distances once ``min_queries`` distinct queries are in.
* **Coverage**: each query falls in a feature-space cell: per feature, below, inside or above
  the model's benign range (its 5th-95th percentiles, widened by ``margin`` of that range).
  Benign names sit in the inside cell on almost every feature; a thief spreading its
  queries over the input space lands in cells outside it on several features at once. A
  share of the client's distinct queries above ``coverage_max`` in such cells flags.

Exact repeats are skipped: a repeated query teaches a thief nothing, and a busy benign
client (the same popular names all day) would otherwise pile zeros into ``D``.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from garrison.govern.serving.config import ExtractionConfig

F32 = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class FeatureSpace:
    """How to measure distances for one model: a feature's distance unit is its benign
    5th-95th percentile range; ``low``/``high`` (scaled) bound the benign range, or are
    None when the model has no such range (the hashed spaces of the url/email models)."""

    center: F32
    scale: F32
    low: F32 | None = None
    high: F32 | None = None

    @classmethod
    def from_quantiles(cls, q05: F32, q50: F32, q95: F32) -> FeatureSpace:
        width = np.asarray(q95, np.float64) - np.asarray(q05, np.float64)
        scale = np.where(width > 1e-6, width, 1.0).astype(np.float32)
        center = np.asarray(q50, np.float32)
        low = ((np.asarray(q05, np.float32) - center) / scale).astype(np.float32)
        high = ((np.asarray(q95, np.float32) - center) / scale).astype(np.float32)
        return cls(center, scale, low, high)

    @classmethod
    def identity(cls, dims: int) -> FeatureSpace:
        return cls(np.zeros(dims, np.float32), np.ones(dims, np.float32))

    def scaled(self, x: F32) -> F32:
        out = (np.asarray(x, np.float32) - self.center) / self.scale
        return np.nan_to_num(out, nan=0.0, posinf=1e3, neginf=-1e3).astype(np.float32)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Where a client's stream stands: counts, the statistics, and whether it is flagged."""

    queries: int
    distinct: int
    w: float | None
    off_share: float | None
    cells: int
    reasons: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return bool(self.reasons)

    def to_json(self) -> dict[str, object]:
        return {
            "queries": self.queries,
            "distinct": self.distinct,
            "shapiro_w": None if self.w is None else round(self.w, 4),
            "off_benign_share": None if self.off_share is None else round(self.off_share, 4),
            "cells": self.cells,
            "reasons": list(self.reasons),
        }


@dataclass(slots=True)
class _Growing:
    """One label's growing set (bounded: the oldest half goes when it is full)."""

    cap: int
    dims: int
    rows: F32 = field(init=False)
    n: int = 0
    dists: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rows = np.empty((min(self.cap, 64), self.dims), np.float32)

    def add(self, v: F32, d: float) -> None:
        if self.n == self.cap:
            keep = self.cap // 2
            self.rows[:keep] = self.rows[self.n - keep : self.n]
            self.n = keep
            self.dists = self.dists[-keep:]
        if self.n == len(self.rows):
            grown = np.empty((min(self.cap, 2 * len(self.rows)), self.dims), np.float32)
            grown[: self.n] = self.rows[: self.n]
            self.rows = grown
        self.rows[self.n] = v
        self.n += 1
        self.dists.append(d)

    def nearest(self, v: F32) -> float:
        diff = self.rows[: self.n] - v
        return float(np.sqrt(np.min(np.einsum("ij,ij->i", diff, diff))))

    def threshold(self) -> float:
        arr = np.asarray(self.dists, np.float64)
        return float(arr.mean() - arr.std())


class StreamMonitor:
    """One client's stream on one model (feed it in query order)."""

    def __init__(self, cfg: ExtractionConfig, space: FeatureSpace) -> None:
        self.cfg, self.space = cfg, space
        self.queries = 0
        self.distinct = 0
        self.off = 0
        self.distances: deque[float] = deque(maxlen=cfg.window)
        self._growing: dict[str, _Growing] = {}
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._cells: set[bytes] = set()
        self._last: Verdict | None = None

    def add(self, labels: list[str], vectors: F32) -> Verdict:
        """Feed queries (labels answered, raw feature vectors); the verdict after them."""
        scaled = self.space.scaled(vectors)
        due = False
        for label, v in zip(labels, scaled, strict=True):
            self.queries += 1
            if self._repeat(v):
                continue
            self.distinct += 1
            self._coverage(v)
            self._prada(label, v)
            due = due or self.distinct % self.cfg.check_every == 0
        if due or self._last is None:
            self._last = self.verdict()
        return self._last

    def _repeat(self, v: F32) -> bool:
        key = np.round(v, 5).tobytes()
        if key in self._seen:
            self._seen.move_to_end(key)
            return True
        self._seen[key] = None
        while len(self._seen) > 4 * self.cfg.max_history:
            self._seen.popitem(last=False)
        return False

    def _coverage(self, v: F32) -> None:
        if self.space.low is None or self.space.high is None:
            return
        pad = self.cfg.margin * (self.space.high - self.space.low)
        cell = (v > self.space.high + pad).astype(np.int8) - (v < self.space.low - pad)
        if int(np.count_nonzero(cell)) >= self.cfg.min_dims:
            self.off += 1
        if len(self._cells) < 100_000:
            self._cells.add(cell.astype(np.int8).tobytes())

    def _prada(self, label: str, v: F32) -> None:
        growing = self._growing.get(label)
        if growing is None:
            growing = self._growing[label] = _Growing(self.cfg.max_history, len(v))
            growing.add(v, 0.0)
            return
        d = growing.nearest(v)
        self.distances.append(d)
        if d > growing.threshold():
            growing.add(v, d)

    def verdict(self) -> Verdict:
        w: float | None = None
        off_share: float | None = None
        reasons: list[str] = []
        if self.space.low is not None and self.distinct:
            off_share = self.off / self.distinct
        if self.cfg.enabled and self.distinct >= self.cfg.min_queries:
            dist = np.asarray(self.distances, np.float64)
            if len(dist) >= 3 and np.ptp(dist) > 0:
                from scipy.stats import shapiro  # imported when a stream is judged: ~0.5 s

                w = float(shapiro(dist).statistic)
                if not self.cfg.prada_low <= w <= self.cfg.prada_high:
                    reasons.append(
                        f"prada: Shapiro-Wilk W {w:.3f} outside [{self.cfg.prada_low}, "
                        f"{self.cfg.prada_high}] over the last {len(dist)} minimum distances"
                    )
            if off_share is not None and off_share > self.cfg.coverage_max:
                reasons.append(
                    f"coverage: {off_share:.0%} of {self.distinct} distinct queries outside "
                    f"the benign range on {self.cfg.min_dims}+ features "
                    f"(> {self.cfg.coverage_max:.0%})"
                )
        return Verdict(self.queries, self.distinct, w, off_share, len(self._cells), tuple(reasons))
