"""Where evaluations find their data and put their reports (one rule for every evaluation).

Data: ``--corpus`` given, else ``$GARRISON_CORPUS``, else ``../shared/corpus``; a missing
sub-folder is an ``InputError`` naming it (exit 2, one line). Report: ``--out`` given, else
``HOME/eval/<name>.json`` (the name of the evaluation, as in ``garrison eval <name>``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from garrison.core.config import resolve_home
from garrison.core.errors import InputError

DEFAULT_CORPUS = "../shared/corpus"


def corpus_root(given: Path | None, needs: str) -> Path:
    """The corpus root holding ``needs``; ``InputError`` when it is not there."""
    root = given or Path(os.environ.get("GARRISON_CORPUS", DEFAULT_CORPUS))
    if not (root / needs).exists():
        raise InputError(f"corpus {root}: {needs} not found (set --corpus)")
    return root


def data_folder(given: Path | None, corpus_part: str) -> Path:
    """A ``--data`` folder, defaulting to ``CORPUS/<corpus_part>``; ``InputError`` if absent."""
    root = given or Path(os.environ.get("GARRISON_CORPUS", DEFAULT_CORPUS)) / corpus_part
    if not root.is_dir():
        raise InputError(f"--data {root}: not a folder")
    return root


def report_path(out: Path | None, home: Path | None, name: str) -> Path:
    return out or resolve_home(home) / "eval" / f"{name}.json"


def write_report(
    report: dict[str, Any],
    out: Path | None,
    home: Path | None,
    name: str,
    *,
    final_newline: bool = False,
) -> Path:
    """Write ``report`` as indented JSON to ``--out`` or ``HOME/eval/<name>.json``.

    ``final_newline``: the DGA and DNS reports have always ended with one, the others not;
    kept so every report stays byte-identical for scripts that compare them.
    """
    path = report_path(out, home, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, default=str) + ("\n" if final_newline else "")
    path.write_text(text, encoding="utf-8")
    return path
