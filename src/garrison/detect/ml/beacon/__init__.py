"""C2 beaconing on connection logs (``ml.beacon``); see ``detector`` for the flow."""

from garrison.detect.base import DETECTORS
from garrison.detect.ml.beacon.detector import BeaconConfig, BeaconDetector, build
from garrison.detect.ml.beacon.stats import BeaconScore, Weights, Window, score_pair

DETECTORS.register("ml.beacon")(build)

__all__ = [
    "BeaconConfig",
    "BeaconDetector",
    "BeaconScore",
    "Weights",
    "Window",
    "build",
    "score_pair",
]
