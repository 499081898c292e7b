"""C2 beaconing on connection logs (``ml.beacon``); see ``detector`` for the flow."""

from garrison.detect.base import DETECTORS
from garrison.detect.ml.beacon.detector import BeaconConfig, BeaconDetector, build
from garrison.detect.ml.beacon.stats import BeaconScore, Weights, Window, score_pair
from garrison.detect.options import DETECTOR_OPTIONS

DETECTORS.register("ml.beacon")(build)
DETECTOR_OPTIONS.register("ml.beacon")(BeaconConfig)

__all__ = [
    "BeaconConfig",
    "BeaconDetector",
    "BeaconScore",
    "Weights",
    "Window",
    "build",
    "score_pair",
]
