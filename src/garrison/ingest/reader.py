"""Turn input paths into batches of records, with fingerprints and per-file accounting.

This is the part of ingestion that does not depend on the format: expanding folders,
sniffing, opening, batching and fingerprinting. Formats live in the source modules.
"""

from __future__ import annotations

import hashlib
import os
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, make_dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from garrison.core.events import Quarantined, RawRecord
from garrison.core.options import OptionsError, load_options, option, table_name
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
    maps resolved folders (``--out``, the home) to what they are ("the Garrison home"):
    nothing in them is read, not even through a link or when named; a walked folder holding
    one reports it once.
    """
    files: list[InputFile] = []
    problems: list[FileProblem] = []
    roots = _roots(paths)
    for given in paths:
        path = Path(given)
        if path.is_dir():
            skip = excluded_within(path, exclude or {})
            if skip.get(str(path)):
                problems.append(FileProblem(given, f"not read: it is {skip[str(path)]}"))
                continue
            for child in sorted(path.rglob("*")):
                if skip and _skipped(child, skip, problems):
                    continue
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


def excluded_within(folder: Path, exclude: Mapping[Path, str]) -> dict[str, str]:
    """The excluded folders at or under ``folder``, spelled as its walk yields them."""
    if not exclude:
        return {}
    try:
        base = folder.resolve()
    except OSError:
        return {}
    return {
        str(folder / target.relative_to(base)): reason
        for target, reason in exclude.items()
        if target == base or base in target.parents
    }


def _skipped(child: Path, skip: dict[str, str], problems: list[FileProblem]) -> bool:
    """Whether ``child`` lies in an excluded folder; the folder itself is reported once."""
    text = str(child)
    for prefix, reason in skip.items():
        if text == prefix:
            problems.append(FileProblem(prefix, f"not read: it is {reason}"))
            return True
        if text.startswith(prefix + os.sep):
            return True
    return False


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


@cache
def source_settings(cls: type[Source]) -> type[Any]:
    """The ``[ingest.<format>]`` table of a source as an options dataclass: one field per
    annotated, non-``ClassVar`` class attribute (its value the default), with the allowed
    values of ``setting_choices``; checked by the one options loader."""
    hints = typing.get_type_hints(cls)
    choices: Mapping[str, Any] = getattr(cls, "setting_choices", {})
    specs = []
    for name, tp in hints.items():
        if name.startswith("_") or typing.get_origin(tp) is ClassVar or tp is ClassVar:
            continue
        default = getattr(cls, name, None)
        if default is None or callable(default):
            continue
        specs.append((name, tp, option(default, choices=choices.get(name))))
    return make_dataclass(f"{cls.__name__}Settings", specs, frozen=True, slots=True)


def check_source_options(
    options: Mapping[str, Mapping[str, Any]], file: Path | None = None
) -> None:
    """Reject ``[ingest.<format>]`` settings that name no source or no setting of it, or
    have the wrong type, before any file is read (``OptionsError``, exit 2)."""
    for fmt, settings in options.items():
        where = table_name("ingest", fmt)
        if fmt not in SOURCES:
            raise OptionsError(
                where, "", f"no source named {fmt!r} (known: {', '.join(SOURCES.names())})", file
            )
        load_options(source_settings(SOURCES.get(fmt)), settings, where=where, file=file)


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
