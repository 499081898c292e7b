"""Unsupervised anomaly detection (``ml.anomaly``) behind one small estimator interface."""

from garrison.detect.base import DETECTORS
from garrison.detect.ml.anomaly.detector import AnomalyConfig, AnomalyDetector, build
from garrison.detect.ml.anomaly.estimators import ESTIMATORS, make
from garrison.detect.ml.anomaly.hst import HalfSpaceTreesEstimator
from garrison.detect.ml.anomaly.iforest import IsolationForestEstimator
from garrison.detect.ml.anomaly.protocol import BaseEstimator, Estimator
from garrison.detect.options import DETECTOR_OPTIONS

DETECTORS.register("ml.anomaly")(build)
DETECTOR_OPTIONS.register("ml.anomaly")(AnomalyConfig)

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
