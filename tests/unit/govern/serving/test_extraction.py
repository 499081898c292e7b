"""The stream tests on feature vectors: random vectors are flagged (coverage: outside the
benign range; PRADA: minimum distances as regular as a normal sample), repeats are not
counted, and a stream of discrete, heavy-tailed vectors like real names' is not flagged."""

from __future__ import annotations

import numpy as np

from garrison.govern.serving.config import ExtractionConfig
from garrison.govern.serving.extraction import FeatureSpace, StreamMonitor

DIMS = 12
SPACE = FeatureSpace.from_quantiles(
    np.zeros(DIMS, np.float32), np.full(DIMS, 2.0, np.float32), np.full(DIMS, 10.0, np.float32)
)


def _feed(stream: np.ndarray, cfg: ExtractionConfig | None = None) -> StreamMonitor:
    monitor = StreamMonitor(cfg or ExtractionConfig(), SPACE)
    for start in range(0, len(stream), 10):
        chunk = stream[start : start + 10]
        monitor.add(["benign"] * len(chunk), chunk)
    return monitor


def _natural(rng: np.random.Generator, n: int) -> np.ndarray:
    """Counts and ratios as name features are: small integers, many at zero, and a long
    tail (a few long names far out on every feature at once)."""
    counts = rng.geometric(0.35, (n, DIMS // 2)) - 1
    ratios = np.round(rng.beta(0.6, 3.0, (n, DIMS - DIMS // 2)) * 10, 1)
    x = np.hstack([counts, ratios]).astype(np.float32)
    far = rng.random(n) < 0.05
    x[far] *= rng.uniform(2, 6, (int(far.sum()), 1)).astype(np.float32)
    return x


def test_vectors_spread_over_the_input_space_are_flagged_by_coverage() -> None:
    rng = np.random.default_rng(1)
    stream = rng.uniform(-40, 60, (200, DIMS)).astype(np.float32)
    verdict = _feed(stream).verdict()
    assert verdict.flagged and any(r.startswith("coverage") for r in verdict.reasons)
    assert verdict.distinct == 200


def test_vectors_drawn_inside_the_benign_box_are_flagged_by_the_distance_test() -> None:
    rng = np.random.default_rng(2)
    stream = rng.uniform(0, 10, (300, DIMS)).astype(np.float32)
    verdict = _feed(stream).verdict()
    assert verdict.off_share == 0.0
    assert verdict.w is not None and verdict.w > 0.95
    assert any(r.startswith("prada") for r in verdict.reasons)


def test_a_natural_looking_stream_is_not_flagged() -> None:
    for seed in range(5):
        verdict = _feed(_natural(np.random.default_rng(seed), 600)).verdict()
        assert not verdict.flagged, verdict
        assert verdict.w is not None and verdict.w < 0.95


def test_nothing_is_judged_before_min_queries_and_repeats_do_not_count() -> None:
    rng = np.random.default_rng(3)
    stream = rng.uniform(-40, 60, (60, DIMS)).astype(np.float32)
    monitor = _feed(np.concatenate([stream, stream, stream]))
    verdict = monitor.verdict()
    assert (verdict.queries, verdict.distinct) == (180, 60)
    assert not verdict.flagged  # 60 distinct < min_queries (100)


def test_the_low_side_of_the_band_is_the_classic_prada_test() -> None:
    rng = np.random.default_rng(4)
    seeds = rng.uniform(0, 10, (20, DIMS))
    # a thief perturbing a few seeds (Papernot-style): tiny distances, then big jumps
    stream = np.repeat(seeds, 10, axis=0) + rng.normal(0, 0.01, (200, DIMS))
    classic = ExtractionConfig(prada_low=0.9, prada_high=1.0)
    verdict = _feed(stream.astype(np.float32), classic).verdict()
    assert any(r.startswith("prada") for r in verdict.reasons)


def test_an_unranged_space_tests_distances_only() -> None:
    monitor = StreamMonitor(ExtractionConfig(), FeatureSpace.identity(4))
    verdict = monitor.add(["x"] * 3, np.eye(3, 4, dtype=np.float32))
    assert verdict.off_share is None and not verdict.flagged
