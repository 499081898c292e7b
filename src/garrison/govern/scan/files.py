"""Scanning files and folders: which files a folder holds that are model files, and the
report for each. Nothing here loads, imports or runs what it reads."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from garrison.govern.scan.allowlist import Allowlist, default_allowlist
from garrison.govern.scan.formats import scan_data, sniff
from garrison.govern.scan.machine import Context
from garrison.govern.scan.report import FileReport, Scan

#: Suffixes of model formats a folder walk always reports, whatever their bytes.
MODEL_SUFFIXES = frozenset(
    {".pkl", ".pickle", ".joblib", ".jbl", ".sav", ".pt", ".pth", ".ckpt", ".bin",
     ".npy", ".npz", ".skops", ".model", ".dat"}
)  # fmt: skip
SNIFF_BYTES = 512
MAX_FILE = 4 << 30
#: The reason given when the scanner itself failed (a bug: the fuzz tests look for it).
SCANNER_FAULT = "scanner could not read it"


def scan_bytes(
    data: bytes, path: str = "<bytes>", allowlist: Allowlist | None = None
) -> FileReport:
    """Scan one file's bytes. Never raises on any input: a scanner fault is reported as
    ``unreadable`` with its reason (and the fuzz tests hunt for those)."""
    scan = Scan()
    ctx = Context(allowlist or default_allowlist())
    try:
        kind = scan_data(data, ctx, scan)
    except RecursionError:
        scan.unreadable, kind = "nested too deeply to read", "unknown"
    except Exception as exc:  # the scanner must report, never crash (fuzz tests hunt these)
        scan.unreadable, kind = f"{SCANNER_FAULT}: {type(exc).__name__}: {exc}", "unknown"
    verdict = scan.verdict()
    reason = scan.unreadable if verdict == "unreadable" else None
    return FileReport(path, verdict, kind, tuple(scan.findings), reason)


def scan_file(path: Path, allowlist: Allowlist | None = None) -> FileReport:
    """Scan one file (an unreadable one, e.g. permission denied, is ``unreadable``; so is
    anything but a regular file, which could block or never end, and a file over
    ``MAX_FILE`` bytes, which is read whole)."""
    try:
        if not path.is_file():
            return FileReport(str(path), "unreadable", "unknown", (), "not a regular file")
        if path.stat().st_size > MAX_FILE:
            return FileReport(
                str(path), "unreadable", "unknown", (), f"larger than {MAX_FILE} bytes"
            )
        data = path.read_bytes()
    except OSError as exc:
        return FileReport(str(path), "unreadable", "unknown", (), f"cannot read it: {exc.strerror}")
    return scan_bytes(data, str(path), allowlist)


def _is_model_file(path: Path) -> bool:
    if path.suffix.lower() in MODEL_SUFFIXES:
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return True  # reported as unreadable rather than silently passed over
    return sniff(head) in ("zip", "npy", "pickle")


def model_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Each path given, and inside each folder (recursively, sorted, symlinked folders not
    followed) every file that is a model format by suffix or first bytes. A missing path
    raises ``FileNotFoundError``: check them all before scanning (``missing``)."""
    for path in paths:
        if not path.is_dir():
            yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                candidate = Path(root) / name
                if candidate.is_file() and _is_model_file(candidate):
                    yield candidate


def missing(paths: Iterable[Path]) -> list[Path]:
    """The paths that do not exist (the CLI refuses them before scanning anything)."""
    return [p for p in paths if not p.exists()]


def scan_paths(paths: Iterable[Path], allowlist: Allowlist | None = None) -> Iterator[FileReport]:
    """The report of every model file under ``paths``, one at a time."""
    for path in model_files(paths):
        yield scan_file(path, allowlist)
