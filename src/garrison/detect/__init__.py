"""Detection in layers: Sigma rules, threat intelligence, ML detectors.

``DETECTORS`` is the registry of every built-in detector; asking for it imports them all
(see ``_builtin``). Importing a submodule (``garrison.detect.ml.dga.model`` for
``garrison score dga``) imports that submodule alone, not every detector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from garrison.detect.base import DETECTORS, Detector, DetectorContext

__all__ = ["DETECTORS", "Detector", "DetectorContext"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from garrison.detect import (
        _builtin,  # noqa: F401  (registers the detectors)
        base,
    )

    return getattr(base, name)
