"""Detection in layers: Sigma rules, threat intelligence, ML detectors.

Importing this package registers every built-in detector (see ``_builtin``).
"""

from garrison.detect import _builtin  # noqa: F401  (registers the detectors)
from garrison.detect.base import DETECTORS, Detector, DetectorContext

__all__ = ["DETECTORS", "Detector", "DetectorContext"]
