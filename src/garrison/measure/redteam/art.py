"""The Adversarial Robustness Toolbox, imported once, quietly and with a clear error.

ART warns at import that PyTorch is missing (it only disables PyTorch-based certification
code Garrison does not use); that one warning is filtered here, nothing else.
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

from garrison.core.errors import UsageError

INSTALL_HINT = "the red-team attacks need ART: pip install 'garrison[redteam]'"


def art_module(name: str) -> ModuleType:
    """``art.<name>`` (e.g. ``attacks.evasion``), without the PyTorch warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PyTorch not found", category=UserWarning)
        try:
            return importlib.import_module(f"art.{name}")
        except ModuleNotFoundError as exc:
            raise UsageError(f"{INSTALL_HINT} ({exc})") from exc
