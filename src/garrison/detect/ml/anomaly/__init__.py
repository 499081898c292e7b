"""Unsupervised anomaly detection (``ml.anomaly``) behind one small estimator interface."""

from garrison.detect.base import DETECTORS
from garrison.detect.ml.anomaly.detector import AnomalyConfig, AnomalyDetector, build
from garrison.detect.ml.anomaly.estimators import ESTIMATORS, make
from garrison.detect.ml.anomaly.hst import HalfSpaceTreesEstimator
from garrison.detect.ml.anomaly.iforest import IsolationForestEstimator
from garrison.detect.ml.anomaly.protocol import BaseEstimator, Estimator

DETECTORS.register("ml.anomaly")(build)

__all__ = [
    "ESTIMATORS",
    "AnomalyConfig",
    "AnomalyDetector",
    "BaseEstimator",
    "Estimator",
    "HalfSpaceTreesEstimator",
    "IsolationForestEstimator",
    "build",
    "make",
]
