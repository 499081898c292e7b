"""Every estimator behind the protocol, by name (the contract suite runs over all of them)."""

from __future__ import annotations

from collections.abc import Callable

from garrison.detect.ml.anomaly.hst import HalfSpaceTreesEstimator
from garrison.detect.ml.anomaly.iforest import IsolationForestEstimator
from garrison.detect.ml.anomaly.protocol import BaseEstimator

ESTIMATORS: dict[str, Callable[[int], BaseEstimator]] = {
    "iforest": lambda seed: IsolationForestEstimator(seed=seed),
    "hst": lambda seed: HalfSpaceTreesEstimator(seed=seed),
}


def make(name: str, seed: int = 0) -> BaseEstimator:
    try:
        return ESTIMATORS[name](seed)
    except KeyError:
        raise ValueError(f"unknown estimator {name!r} (known: {sorted(ESTIMATORS)})") from None
