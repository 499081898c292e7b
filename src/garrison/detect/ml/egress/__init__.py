"""Large uploads to rare outside addresses (``ml.egress``); see ``detector`` for the flow."""

from garrison.detect.base import DETECTORS
from garrison.detect.ml.egress.detector import EgressConfig, EgressDetector, build
from garrison.detect.ml.egress.transfers import Transfer, transfer_of
from garrison.detect.options import DETECTOR_OPTIONS

DETECTORS.register("ml.egress")(build)
DETECTOR_OPTIONS.register("ml.egress")(EgressConfig)

__all__ = ["EgressConfig", "EgressDetector", "Transfer", "build", "transfer_of"]
