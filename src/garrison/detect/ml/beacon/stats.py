"""The beacon score: pure functions over one pair's timestamps and sizes.

Written from RITA's published description (not its code): four sub-scores in [0, 1] --
timing regularity, size regularity, hourly-histogram spread and duration/persistence --
combined by a weighted sum. Everything here is deterministic, takes plain sequences and
never raises on odd input (empty, constant, unsorted, duplicated, negative sizes): such
input yields a defined, usually zero, score.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
#: RITA needs at least four timestamps (three intervals) before it scores a pair.
MIN_TIMESTAMPS = 4
#: A "small" payload: sizes are scored against the largest single-packet payload.
SMALL_BYTES = 65_535


@dataclass(slots=True, frozen=True)
class Weights:
    """Weights of the four sub-scores; they are normalised to sum to 1."""

    timing: float = 0.35
    size: float = 0.20
    histogram: float = 0.20
    duration: float = 0.25

    def normalised(self) -> tuple[float, float, float, float]:
        raw = [max(0.0, float(w)) for w in (self.timing, self.size, self.histogram, self.duration)]
        total = sum(raw) or 1.0
        return raw[0] / total, raw[1] / total, raw[2] / total, raw[3] / total


@dataclass(slots=True, frozen=True)
class Window:
    """The run's observation window, which fixes the histogram bins.

    A window of a day or more bins by hour of day (24 bins); a shorter capture is cut into
    24 equal bins so that a 50-minute lab capture is scored on its own time scale.
    """

    start_ms: int
    end_ms: int

    @property
    def span_ms(self) -> int:
        return max(0, self.end_ms - self.start_ms)

    @property
    def bin_ms(self) -> int:
        return HOUR_MS if self.span_ms >= DAY_MS else max(1000, math.ceil(self.span_ms / 24))


@dataclass(slots=True)
class BeaconScore:
    score: float = 0.0
    timing: float = 0.0
    size: float = 0.0
    histogram: float = 0.0
    duration: float = 0.0
    #: Distinct timestamps after de-duplication (connections closer than ``dedupe_ms``).
    count: int = 0
    interval_median_s: float = 0.0
    #: Median absolute deviation of the intervals: the beacon's jitter.
    interval_mad_s: float = 0.0
    interval_skew: float = 0.0
    size_median: float = 0.0
    size_mad: float = 0.0
    coverage: float = 0.0
    longest_run_bins: int = 0
    bins_hit: int = 0
    #: The weights actually applied (timing, size, histogram, duration).
    weights: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "score": round(self.score, 4),
            "timing": round(self.timing, 4),
            "size": round(self.size, 4),
            "histogram": round(self.histogram, 4),
            "duration": round(self.duration, 4),
            "count": self.count,
            "interval_median_s": round(self.interval_median_s, 3),
            "interval_mad_s": round(self.interval_mad_s, 3),
            "interval_bowley_skew": round(self.interval_skew, 4),
            "size_median": round(self.size_median, 1),
            "size_mad": round(self.size_mad, 1),
            "coverage": round(self.coverage, 4),
            "longest_run_bins": self.longest_run_bins,
            "bins_hit": self.bins_hit,
        }


def bowley_skew(values: np.ndarray) -> float:
    """Quartile skewness in [-1, 1]; 0 for a symmetric or degenerate (constant) sample."""
    if values.size == 0:
        return 0.0
    q1, q2, q3 = np.percentile(values, [25, 50, 75])
    spread = q3 - q1
    if spread <= 0 or q2 in (q1, q3):
        return 0.0
    return float(np.clip((q3 + q1 - 2 * q2) / spread, -1.0, 1.0))


def mad(values: np.ndarray) -> float:
    if values.size == 0:
        return 0.0
    med = float(np.median(values))
    return float(np.median(np.abs(values - med)))


def dispersion_score(values: np.ndarray) -> float:
    """(median - MAD) / median clipped to [0, 1]; a constant sample (even all zeros) is 1."""
    if values.size == 0:
        return 0.0
    med = float(np.median(values))
    dev = mad(values)
    if med <= 0:
        return 1.0 if dev == 0 else 0.0
    return float(np.clip((med - dev) / med, 0.0, 1.0))


def regularity(values: np.ndarray) -> float:
    """Mean of 1 - |Bowley skew| and the MAD/median dispersion score."""
    return summary(values)[0]


def summary(values: np.ndarray) -> tuple[float, float, float, float]:
    """(regularity, median, MAD, Bowley skew) from one quartile pass (the scoring hot path)."""
    if values.size == 0:
        return 0.0, 0.0, 0.0, 0.0
    q1, q2, q3 = (float(q) for q in np.percentile(values, [25, 50, 75]))
    dev = float(np.median(np.abs(values - q2)))
    spread = q3 - q1
    skew = (
        0.0 if spread <= 0 or q2 in (q1, q3) else min(1.0, max(-1.0, (q3 + q1 - 2 * q2) / spread))
    )
    disp = (1.0 if dev == 0 else 0.0) if q2 <= 0 else min(1.0, max(0.0, (q2 - dev) / q2))
    return 0.5 * (1.0 - abs(skew)) + 0.5 * disp, q2, dev, skew


def dedupe_sorted(times_ms: Sequence[int], dedupe_ms: int) -> np.ndarray:
    """Sorted timestamps with every one closer than ``dedupe_ms`` to the last kept dropped.

    Sorting first makes clock skew (times going backwards) harmless; dropping near-equal
    times treats parallel connections of one check-in as a single beacon.
    """
    arr = np.sort(np.asarray(times_ms, dtype=np.int64))
    if arr.size == 0 or dedupe_ms <= 0 or bool(np.all(np.diff(arr) >= dedupe_ms)):
        return arr
    keep = [int(arr[0])]
    for t in arr[1:]:
        if t - keep[-1] >= dedupe_ms:
            keep.append(int(t))
    return np.asarray(keep, dtype=np.int64)


def _bins(times: np.ndarray, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Histogram (24 bins) and the sorted distinct absolute bin indices the pair hit."""
    width = window.bin_ms
    absolute = (times - window.start_ms) // width
    slots = (times // HOUR_MS) % 24 if window.span_ms >= DAY_MS else np.clip(absolute, 0, 23)
    hist = np.bincount(slots.astype(np.int64), minlength=24)[:24]
    return hist, np.unique(absolute)


def histogram_score(hist: np.ndarray) -> float:
    """Half the share of bins hit, half the flatness (1 - CV) of the bins hit.

    A beacon every hour fills all 24 bins evenly (1.0); a beacon only in office hours
    still scores its flatness; one burst in a single bin scores low.
    """
    total = int(hist.sum())
    if total == 0:
        return 0.0
    hit = hist[hist > 0].astype(float)
    share = hit.size / hist.size
    cv = float(hit.std() / hit.mean()) if hit.size > 1 else 0.0
    return 0.5 * share + 0.5 * max(0.0, 1.0 - cv)


def longest_run(indices: np.ndarray) -> int:
    """Length of the longest run of consecutive integers in a sorted distinct array."""
    if indices.size == 0:
        return 0
    best = cur = 1
    for a, b in itertools.pairwise(indices.tolist()):
        cur = cur + 1 if b == a + 1 else 1
        best = max(best, cur)
    return best


def score_pair(
    times_ms: Sequence[int],
    sizes: Sequence[float],
    window: Window,
    first_ms: int | None = None,
    last_ms: int | None = None,
    weights: Weights | None = None,
    dedupe_ms: int = 1000,
) -> BeaconScore:
    """Score one (source, destination) pair; fewer than four distinct timestamps score 0."""
    out = BeaconScore()
    times = dedupe_sorted(times_ms, dedupe_ms)
    out.count = int(times.size)
    if times.size < MIN_TIMESTAMPS:
        return out
    deltas = np.diff(times).astype(float) / 1000.0
    out.timing, out.interval_median_s, out.interval_mad_s, out.interval_skew = summary(deltas)

    size_arr = _finite_sizes(sizes)
    if size_arr.size:
        size_regularity, out.size_median, out.size_mad, _ = summary(size_arr)
        small = 1.0 - min(1.0, out.size_median / SMALL_BYTES)
        out.size = (2.0 * size_regularity + small) / 3.0

    hist, hit = _bins(times, window)
    out.bins_hit = int((hist > 0).sum())
    out.histogram = histogram_score(hist)
    out.longest_run_bins = longest_run(hit)
    first = int(times[0]) if first_ms is None else min(first_ms, int(times[0]))
    last = int(times[-1]) if last_ms is None else max(last_ms, int(times[-1]))
    out.coverage = min(1.0, (last - first) / window.span_ms) if window.span_ms > 0 else 0.0
    out.duration = max(out.coverage, min(1.0, out.longest_run_bins / 12.0))

    wt, ws, wh, wd = (weights or Weights()).normalised()
    if not size_arr.size:  # no sizes logged (TLS/HTTP metadata only): weight moves over
        total = wt + wh + wd or 1.0
        wt, ws, wh, wd = wt / total, 0.0, wh / total, wd / total
    out.weights = {"timing": wt, "size": ws, "histogram": wh, "duration": wd}
    out.score = float(
        np.clip(wt * out.timing + ws * out.size + wh * out.histogram + wd * out.duration, 0.0, 1.0)
    )
    return out


def _finite_sizes(sizes: Sequence[float]) -> np.ndarray:
    """Sizes as a float array, non-finite and unreadable values dropped, negatives at 0."""
    try:
        arr = np.asarray(sizes, dtype=float)
    except (TypeError, ValueError):
        arr = np.asarray([s for s in sizes if _finite(s)], dtype=float)
    if arr.ndim != 1:
        arr = arr.ravel()
    return np.clip(arr[np.isfinite(arr)], 0.0, None)


def _finite(value: float) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
