"""A small synthetic evasion target: two classes of 6 features, gradient-boosted trees.

Features 0-3 are "controlled" (the attacker's), 4-5 are not. Trained undefended and with
``BallAugment``, exactly as the DGA target does on the corpus, so tests of the attack
machinery and of the defence run in seconds without the corpus.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from garrison.detect.ml.dga.robust import BallAugment
from garrison.measure.redteam.space import F64, Bools, EvasionSetup, Side

FEATURES = ("a", "b", "c", "d", "context1", "context2")
CONTROLLED = np.array([True, True, True, True, False, False])


def data(n: int, rng: np.random.Generator) -> tuple[F64, np.ndarray]:
    y = (rng.random(n) < 0.5).astype(np.int64)
    # malicious rows: a tight cluster in the controlled features; benign rows: anywhere
    # at least 0.4 away from it (the empty shell between is where trees leave the boundary
    # wherever the data stops, as they do around DGA families)
    x = rng.random((n, len(FEATURES)))
    centre = np.full(4, 0.7)
    mal = y == 1
    x[mal, :4] = centre + rng.normal(0, 0.04, (int(mal.sum()), 4))
    far = np.linalg.norm(x[:, :4] - centre, axis=1) >= 0.4
    keep = mal | far
    return np.clip(x[keep], 0, 1), y[keep]


def _side(name: str, x: F64, y: np.ndarray, augment: BallAugment, rng: np.random.Generator,
          x_test: F64, y_test: np.ndarray) -> Side:  # fmt: skip
    xf, yf, wf = augment.apply(x, y, np.ones(len(y)), CONTROLLED, rng)
    with threadpool_limits(1):
        gbm = HistGradientBoostingClassifier(max_iter=40, random_state=0)
        gbm.fit(xf, yf, sample_weight=wf)

    def margin(rows: F64) -> F64:
        return np.asarray(gbm._raw_predict(rows, n_threads=1), dtype=np.float64).reshape(-1)

    accuracy = float(((margin(x_test) >= 0) == (y_test == 1)).mean())
    return Side(name, margin, {"accuracy": round(accuracy, 4)})


@cache
def setup(points: int = 12, radius: float = 0.3, seed: int = 0) -> EvasionSetup:
    rng = np.random.default_rng(seed)
    x, y = data(1500, rng)
    x_test, y_test = data(1000, rng)
    undefended = _side("undefended", x, y, BallAugment(), rng, x_test, y_test)
    defended = _side("defended", x, y, BallAugment(radius, 3), rng, x_test, y_test)
    mal = x_test[(y_test == 1) & undefended.flags(x_test) & defended.flags(x_test)]
    chosen = mal[:points]

    def realise(_x: F64, adv: F64) -> tuple[F64, Bools]:
        return adv, np.ones(len(adv), dtype=bool)

    lo, hi = np.zeros(len(FEATURES)), np.ones(len(FEATURES))
    return EvasionSetup(FEATURES, CONTROLLED, lo, hi, undefended, defended, chosen, x, realise)
