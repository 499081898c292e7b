"""Detection content shipped with Garrison: Sigma rules written by the Garrison developers.

These are Garrison's own rules (Apache-2.0), loaded by default so that a fresh install
detects the common intrusion steps without any download. Point ``--rules`` at the public
SigmaHQ rule set for the full coverage; both load side by side.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path


def bundled_rules_dir() -> Path:
    """Folder of the bundled Sigma rules (a real directory inside the installed package)."""
    return Path(str(importlib.resources.files("garrison.content").joinpath("sigma")))
