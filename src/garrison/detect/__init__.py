"""Detection in layers: Sigma rules, threat intelligence, ML detectors.

The built-in detectors (``_builtin``) are imported the first time ``DETECTORS`` is read,
not when this package is: a module that needs one helper of ``detect`` does not load
every model library.
"""

from garrison.detect.base import DETECTORS, Detector, DetectorContext

__all__ = ["DETECTORS", "Detector", "DetectorContext"]
