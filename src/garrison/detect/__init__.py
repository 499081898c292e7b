"""Detection in layers: Sigma rules, threat intelligence, ML detectors.

The built-in detectors (``_builtin``) are imported the first time ``DETECTORS`` is read,
not when this package is: a module that needs one helper of ``detect`` does not load
every model library.
"""

from garrison.detect.base import DETECTORS, Detector, DetectorContext


def _load_builtin() -> None:
    """The built-in detectors register themselves when their modules are imported."""
    import garrison.detect._builtin  # noqa: F401


DETECTORS.load_on_first_read(_load_builtin)

__all__ = ["DETECTORS", "Detector", "DetectorContext"]
