"""``rules check`` as a service: load rule files exactly as a hunt would and report.

The CLI (and later the API) call ``check_rules``; they never build the detector or read
the ``[detectors.sigma]`` options themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from garrison.core.config import GarrisonConfig
from garrison.core.errors import UsageError
from garrison.detect.options import detector_options
from garrison.detect.sigma.detector import SigmaDetector, load_detector


def check_rules(config: GarrisonConfig, paths: Sequence[Path], cache: bool = True) -> SigmaDetector:
    """The detector the rules under ``paths`` load into (its ``ruleset`` holds every
    failure with its reason); a path that does not exist is a usage error before any work."""
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or directory")
    opts = detector_options(config, "sigma")
    if not cache:
        opts.cache = False
    return load_detector(list(paths), config.home, opts)
