"""Identity analytics on authentication events (``ml.ueba``); see ``detector``."""

from garrison.detect.base import DETECTORS
from garrison.detect.ml.ueba.authevents import AuthEvent, auth_event_of
from garrison.detect.ml.ueba.baseline import Baseline
from garrison.detect.ml.ueba.common import UebaConfig
from garrison.detect.ml.ueba.detector import UebaDetector, build
from garrison.detect.options import DETECTOR_OPTIONS

DETECTORS.register("ml.ueba")(build)
DETECTOR_OPTIONS.register("ml.ueba")(UebaConfig)

__all__ = ["AuthEvent", "Baseline", "UebaConfig", "UebaDetector", "auth_event_of", "build"]
