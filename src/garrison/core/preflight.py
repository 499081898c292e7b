"""Checks on the folders a hunt is given, made before any work starts.

A hunt writes into ``--out`` and ``--home`` only at the end or deep inside a stage, so a
folder that is a file, is read-only or is ``/proc/self`` would otherwise surface as a
traceback after minutes of work. ``check_hunt_paths`` proves it can write a file in each
(for a folder still to be created: in its nearest existing parent; nothing is created),
and refuses the combinations that would lose data: ``--out`` equal to an input folder
(the results would be read back as events on the next run) and an input that is one of
the result files this hunt would overwrite. Each refusal is a one-line ``UsageError``
(exit 2).

It also names the folders the input walk must leave out, with the reason shown to the
user: ``--out`` and the home, when they sit inside a hunted folder.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from garrison.core.errors import UsageError

#: The contract files a hunt writes into ``--out`` (DESIGN.md).
RESULT_FILES = ("findings.jsonl", "incidents.jsonl", "quarantine.jsonl", "summary.json")

OUT_REASON = "the --out folder of this hunt (results are not logs)"
HOME_REASON = "the Garrison home (state, lake and keys are not logs)"


@dataclass(slots=True)
class HuntPaths:
    """The checked folders, resolved, and the folders the input walk leaves out."""

    out: Path
    home: Path
    exclude: dict[Path, str] = field(default_factory=dict)


def input_exclusions(home: Path, out: Path | None = None) -> dict[Path, str]:
    """Folders (resolved) never read as input, each with what it is, for the user."""
    found = {_resolved(home): HOME_REASON}
    if out is not None:
        found[_resolved(out)] = OUT_REASON
    return found


def check_hunt_paths(inputs: Sequence[str], out: Path, home: Path) -> HuntPaths:
    """Raise ``UsageError`` for folders a hunt cannot use; see the module docstring."""
    home_dir = usable_folder(home, "--home")
    out_dir = usable_folder(out, "--out")
    for given in inputs:
        _check_input(given, out_dir)
    return HuntPaths(out_dir, home_dir, input_exclusions(home_dir, out_dir))


def usable_folder(path: Path, flag: str) -> Path:
    """``path`` resolved, when it is a folder this process can write in or one it can
    create (its nearest existing ancestor is a folder it can write in). Nothing is left
    behind: a refused hunt creates no folder."""
    try:
        existing = path
        while not existing.exists() and existing.parent != existing:
            existing = existing.parent
        if not existing.is_dir():
            where = "" if existing == path else f" ({existing} is a file)"
            raise UsageError(f"{flag} {path}: not a folder{where}")
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot use it ({exc.strerror or exc})") from exc
    try:
        fd, probe = tempfile.mkstemp(prefix=".garrison-probe-", dir=existing)
        os.close(fd)
        Path(probe).unlink()
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot write there ({exc.strerror or exc})") from exc
    return _resolved(path)


def _check_input(given: str, out_dir: Path) -> None:
    path = Path(given)
    try:
        resolved = path.resolve()
        is_dir, is_file = path.is_dir(), path.is_file()
    except OSError:
        return  # the input walk reports it
    if is_dir and resolved == out_dir:
        raise UsageError(
            f"--out {given} is also an input folder: its results would be read back as "
            "events; choose an --out outside it (or a subfolder, which is left out)"
        )
    if is_file and resolved.parent == out_dir and resolved.name in RESULT_FILES:
        raise UsageError(
            f"input {given} is a result file this hunt would overwrite; "
            "copy it elsewhere or choose another --out"
        )


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()
