"""``garrison models scan PATH...``: the static model-file scanner (``garrison.govern.scan``).

One JSON line per file on stdout (``path``, ``verdict``: safe|unsafe|unreadable,
``format``, ``findings``, and ``reason`` when unreadable); folders are walked recursively
for model files. Exit 1 when any file is not safe (unsafe, or unreadable: a file the
scanner cannot read is not vouched for), 2 for a path that does not exist, 0 otherwise.
It reads no state: ``--home``/``--config`` are taken like every command's, and a
``--config`` given is checked.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from garrison.core.errors import CheckFailed, UsageError
from garrison.interfaces.cli.common import ConfigOption, HomeOption, home_for


def scan(
    paths: Annotated[
        list[Path], typer.Argument(metavar="PATH...", help="Model files or folders (recursive).")
    ],
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Scan model files statically (nothing is loaded): exit 1 if any is not safe."""
    from garrison.govern.scan import missing, scan_paths

    home_for(home, config)  # a --config given is checked like every command's (exit 2)
    absent = missing(paths)
    if absent:
        raise UsageError(f"no such file or folder: {', '.join(str(p) for p in absent)}")
    counts = {"safe": 0, "unsafe": 0, "unreadable": 0}
    for report in scan_paths(paths):
        counts[report.verdict] += 1
        sys.stdout.write(json.dumps(report.as_json(), ensure_ascii=True) + "\n")
    sys.stdout.flush()
    if counts["unsafe"] or counts["unreadable"]:
        raise CheckFailed(
            f"{counts['unsafe']} unsafe and {counts['unreadable']} unreadable of "
            f"{sum(counts.values())} model file(s)"
        )
