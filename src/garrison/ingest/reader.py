"""Turn input paths into batches of records, with fingerprints and per-file accounting.

This is the part of ingestion that does not depend on the format: expanding folders,
sniffing, opening, batching and fingerprinting. Formats live in the source modules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.core.errors import InputError
from garrison.core.events import Quarantined, RawRecord
from garrison.ingest.base import SOURCES, Source, SourceItem
from garrison.ingest.sniff import detect_format, read_head


@dataclass(slots=True)
class InputFile:
    """One file to read, as the user named it (``display``) and where it is (``path``)."""

    path: Path
    display: str


@dataclass(slots=True)
class FileProblem:
    display: str
    reason: str


@dataclass(slots=True)
class Batch:
    """Up to ``batch_size`` consecutive records of one file and their content fingerprint."""

    source_format: str
    source_path: str
    fingerprint: str
    records: list[RawRecord] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.records) + len(self.quarantined)


def expand_inputs(
    paths: list[str], exclude: Mapping[Path, str] | None = None
) -> tuple[list[InputFile], list[FileProblem]]:
    """Files under the given paths, folders walked recursively in a stable order.

    Inside folders, FIFOs, sockets and devices are reported (reading a FIFO would block the
    run) and so is every symbolic link that is not followed, each with its reason (see
    ``link_problem``: links are followed only to files inside the named paths). ``exclude``
    maps resolved folders (the home) to a reason: nothing in them is read, not even
    through a link or when named.
    """
    files: list[InputFile] = []
    problems: list[FileProblem] = []
    roots = _roots(paths)
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_symlink():
                    why = link_problem(child, roots, exclude or {})
                    if why:
                        problems.append(FileProblem(str(child), why))
                        continue
                if child.is_file():
                    files.append(InputFile(child, str(child)))
                elif not child.is_dir():
                    problems.append(FileProblem(str(child), "not a regular file"))
        elif path.is_file():
            inside = _excluded(_resolved(path), exclude or {})
            if inside:
                problems.append(FileProblem(given, f"inside {inside}: not read"))
            else:
                files.append(InputFile(path, given))
        elif path.exists():
            problems.append(FileProblem(given, "not a regular file"))
        else:
            problems.append(FileProblem(given, "no such file or directory"))
    return files, problems


def link_problem(link: Path, roots: list[Path], exclude: Mapping[Path, str]) -> str:
    """Why a symbolic link found inside a walked folder is not followed, or "" to follow it.

    Links are followed only to regular files inside the paths the user named: a link
    planted in a hunted folder must not make the hunt read (and quote into its outputs)
    a file elsewhere, such as the home's audit key or /etc/passwd. Links to folders are
    never followed (no loops, no second walk of the same files).
    """
    target = _resolved(link)
    if target is None:
        return "symbolic link loop: not followed"
    if not target.exists():
        return "broken symbolic link"
    inside = _excluded(target, exclude)
    if inside:
        return f"symbolic link into {inside}: not followed"
    if target.is_dir():
        return "symbolic link to a folder: not followed"
    if not any(target == root or root in target.parents for root in roots):
        return f"symbolic link to {target}, outside the named paths: not followed"
    return ""


def _resolved(path: Path) -> Path | None:
    """The path with every link resolved; None for a link loop."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # RuntimeError: a loop (Python < 3.13)
        return None


def _roots(paths: list[str]) -> list[Path]:
    roots = []
    for given in paths:
        resolved = _resolved(Path(given))
        if resolved is not None:
            roots.append(resolved)
    return roots


def _excluded(target: Path | None, exclude: Mapping[Path, str]) -> str:
    """The reason of the excluded folder ``target`` lies in, or ""."""
    if target is None:
        return ""
    for folder, reason in exclude.items():
        if target == folder or folder in target.parents:
            return reason
    return ""


class UnknownFormat(Source):
    """Stand-in for a file no source recognises: the whole file becomes one quarantined record."""

    format = "unknown"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    @classmethod
    def sniff(cls, head: bytes, path: Path) -> bool:
        return False

    def read(self, path: Path) -> Iterator[SourceItem]:
        yield Quarantined(str(path), None, self.reason, "unknown")


def check_source_options(options: Mapping[str, Mapping[str, Any]]) -> None:
    """Reject ``[ingest.<format>]`` settings that name no source or no setting of it, or
    have the wrong type, before any file is read (``InputError``, exit 2)."""
    for fmt, settings in options.items():
        if fmt not in SOURCES:
            raise InputError(
                f"config [ingest.{fmt}]: no source named {fmt!r} "
                f"(known: {', '.join(SOURCES.names())})"
            )
        cls = SOURCES.get(fmt)
        for key, value in settings.items():
            default = getattr(cls, key, None)
            if (
                key.startswith("_")
                or default is None
                or callable(default)
                or key in ("format", "priority", "setting_choices")
            ):
                raise InputError(f"config [ingest.{fmt}]: {fmt} has no setting {key!r}")
            expected = float if isinstance(default, float) else type(default)
            ok = isinstance(value, expected) and not (
                isinstance(value, bool) and expected is not bool
            )
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                ok = True
            if not ok:
                raise InputError(
                    f"config [ingest.{fmt}] {key}: expected "
                    f"{expected.__name__}, got {type(value).__name__}"
                )
            choices = getattr(cls, "setting_choices", {}).get(key)
            if choices and value not in choices:
                raise InputError(
                    f"config [ingest.{fmt}] {key}: {value!r} is not one of "
                    f"{', '.join(map(str, choices))}"
                )


def open_source(
    file: InputFile, options: Mapping[str, Mapping[str, Any]] | None = None
) -> Source | None:
    """The source instance for a file; ``None`` for an empty file. Raises ``OSError``.

    ``options`` are the checked ``[ingest.<format>]`` settings, set on the instance.
    """
    head = read_head(file.path)
    if not head:
        return None
    cls = detect_format(file.path, head)
    if cls is None:
        # no content quoted: an unrecognised file may be anything (a key, a password file)
        kind = "binary" if b"\x00" in head else "text"
        return UnknownFormat(f"unrecognised format ({kind}, {len(head)} bytes looked at)")
    source = cls()
    for key, value in (options or {}).get(cls.format, {}).items():
        setattr(source, key, value)
    return source


def _guarded(source: Source, file: InputFile) -> Iterator[SourceItem]:
    """The source's items; if the source itself fails, the rest of the file is quarantined
    as one record with the reason, instead of crashing the run or vanishing."""
    last = 0
    try:
        for item in source.read(file.path):
            if item.position is not None:
                last = item.position
            yield item
    except OSError:
        raise
    except Exception as exc:
        yield Quarantined(
            file.display,
            None,
            f"{source.format} reader stopped after position {last}: {type(exc).__name__}: {exc}",
            source.format,
        )


def batches(source: Source, file: InputFile, batch_size: int) -> Iterator[Batch]:
    """The file's items grouped into fingerprinted batches.

    The fingerprint hashes the format, each record's position and raw text, and each
    quarantine reason: the same content gives the same fingerprint whatever the file is
    called, which is what makes re-ingestion idempotent.
    """
    fmt = source.format
    digest = hashlib.sha256(fmt.encode())
    current = Batch(fmt, file.display, "")
    records, quarantined, update = current.records, current.quarantined, digest.update
    for item in _guarded(source, file):
        if isinstance(item, Quarantined):
            item.source_path = file.display
            if item.source_format == "unknown":
                item.source_format = fmt
            quarantined.append(item)
            update(f"q{item.position}:{item.reason}".encode())
        else:
            records.append(item)
            update(f"\0{item.position}\0{item.text}".encode("utf-8", "surrogatepass"))
            if len(records) + len(quarantined) < batch_size:  # the common case
                continue
        if current.size >= batch_size:
            current.fingerprint = digest.hexdigest()
            yield current
            digest = hashlib.sha256(fmt.encode() + current.fingerprint.encode())
            current = Batch(fmt, file.display, "")
            records, quarantined = current.records, current.quarantined
            update = digest.update
    if current.size:
        current.fingerprint = digest.hexdigest()
        yield current
