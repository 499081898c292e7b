"""What the registry agrees to sign: skops and JSON files, scanned, nothing else.

A signature says "this home vouches for these bytes", and the loaders trust a signed file.
So ``register`` (and ``models train``, which registers what it wrote) first checks every
file of the artefact, without deserialising anything:

- ``*.skops``: a zip archive whose types, as ``skops.io.get_untrusted_types`` lists them
  (read from the archive's schema, nothing is imported or called), all lie inside skops'
  defaults plus the model's own allowlist (the one its loader uses);
- ``*.json`` (model cards, calibrations): a UTF-8 JSON object;
- anything else, a pickle above all (``.pkl``, ``.joblib``, ``.pt``, a pickle renamed
  ``.skops``), is refused: unpickling runs code chosen by whoever wrote the file, and no
  scan of a pickle can vouch for it the way an allowlisted skops schema can.

Every file is also read by the static scanner (``garrison.govern.scan``, what
``garrison models scan`` runs): a refused pickle's message names the dangerous globals and
calls it holds, with their byte positions; a skops file must also be a real zip holding no
pickle and no pickled object array, every type it names on the scanner's allowlist too.

A file of another format is unusable input (``NotAdmitted``, exit 2); a skops file holding
types outside the allowlist failed the check register runs (``UnsafeModel``, exit 1).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from garrison.core.errors import CheckFailed, InputError
from garrison.govern.registry.artifacts import IGNORED, artifact_name, expected_files
from garrison.govern.scan import FileReport, default_allowlist, scan_bytes

if TYPE_CHECKING:
    from garrison.govern.registry.store import Entry

#: First bytes of a pickle stream: protocol 2+ starts with PROTO (0x80); 0 and 1 with an
#: opcode such as "(" (MARK), "c" (GLOBAL), "}" / "]" (empty dict / list).
PICKLE_STARTS = (b"\x80",)
#: Suffixes of pickle-based model formats (pickle, joblib, PyTorch, NumPy with objects).
PICKLE_SUFFIXES = frozenset({".pkl", ".pickle", ".joblib", ".pt", ".pth", ".ckpt", ".npy", ".npz"})
REFUSED = "refusing to sign it"


class NotAdmitted(InputError):
    """A file the registry does not sign: not skops, not JSON, unreadable."""


class UnsafeModel(CheckFailed):
    """A skops file that would make its loader build types outside the allowlist."""


def check_file(path: Path, trusted: Sequence[str]) -> None:
    """Raise NotAdmitted or UnsafeModel unless ``path`` may be signed (module docstring)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotAdmitted(f"{path}: cannot read it: {exc}; {REFUSED}") from exc
    if path.name.endswith(".skops"):
        report = _scan(path, data, trusted)
        _check_skops(path, data, trusted, report)
        _check_scan(path, report)
    elif path.name.endswith(".json"):
        _check_json(path, data, trusted)
    else:
        raise NotAdmitted(
            f"{path}: {_kind(data)}; {_scan(path, data, trusted).summary()}; "
            f"the registry signs skops and JSON files only; {REFUSED}"
        )


def _scan(path: Path, data: bytes, trusted: Sequence[str]) -> FileReport:
    """The static scan of ``data``, with the model's own skops types allowed too."""
    return scan_bytes(data, str(path), default_allowlist().extend_dotted(trusted))


def _check_scan(path: Path, report: FileReport) -> None:
    """A skops file the type check passed must also pass the scanner (a real zip, no
    pickle or pickled array smuggled among its members)."""
    if report.verdict == "unsafe":
        raise UnsafeModel(f"{path}: {report.summary()}; {REFUSED}")
    if report.verdict == "unreadable":
        raise NotAdmitted(f"{path}: {report.summary()}; {REFUSED}")


def _kind(data: bytes) -> str:
    if data.startswith(PICKLE_STARTS):
        return "a pickle (loading it runs whatever code it names)"
    if data.startswith(b"PK"):
        return "a zip archive that is not a .skops file"
    return "not a skops or JSON file"


def _check_skops(path: Path, data: bytes, trusted: Sequence[str], report: FileReport) -> None:
    import skops.io as sio

    if not data.startswith(b"PK"):
        raise NotAdmitted(
            f"{path}: {_kind(data)}, not a skops archive; {report.summary()}; {REFUSED}"
        )
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise NotAdmitted(f"{path}: not a readable skops file ({exc}); {REFUSED}") from exc
    unexpected = sorted(set(untrusted) - set(trusted))
    if unexpected:
        raise UnsafeModel(
            f"{path}: holds types outside the model's allowlist: {', '.join(unexpected)}; {REFUSED}"
        )


def _check_json(path: Path, data: bytes, trusted: Sequence[str]) -> None:
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        scanned = f"; {_scan(path, data, trusted).summary()}" if _looks_like_model(data) else ""
        raise NotAdmitted(f"{path}: {_kind(data)}, not valid JSON{scanned}; {REFUSED}") from None
    if not isinstance(parsed, dict):
        raise NotAdmitted(f"{path}: not a JSON object; {REFUSED}")


def _looks_like_model(data: bytes) -> bool:
    return data.startswith((*PICKLE_STARTS, b"PK", b"\x93NUMPY"))


def admit(folder: Path, name: str, trusted: Sequence[str]) -> None:
    """Check every file of the artefact ``name`` in ``folder`` before it is signed, and
    refuse one of its files in a format the registry never signs (``NAME.pkl``...)."""
    wanted = set(expected_files(name))
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.name in IGNORED or path.name.startswith(".") or not path.is_file():
            continue
        if path.name in wanted:
            check_file(path, trusted)
        elif artifact_name(path.name) in (name, name.removesuffix("-calibration")) and (
            path.suffix.lower() in PICKLE_SUFFIXES or _starts_like_pickle(path)
        ):
            check_file(path, trusted)  # NAME.pkl, NAME.joblib...: refused with the reason


def _starts_like_pickle(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(1) in PICKLE_STARTS
    except OSError:
        return False


def register_admitted(
    home: Path, folder: Path, name: str, trusted: Sequence[str]
) -> tuple[Entry, bool]:
    """``admit`` the artefact, then sign and record it (``store.register_model``): the one
    way ``garrison models train|register`` put a model in the registry."""
    from garrison.govern.registry.store import register_model

    admit(folder, name, trusted)
    return register_model(home, folder, name)
