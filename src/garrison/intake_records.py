"""The API's upload spool as a data subject's records, and the one place that gives
``PrivacyService`` every provider of a home.

``POST /api/ingest`` keeps each upload under ``HOME/spool/<sha24>/<name>`` and the hunt's
result files under ``HOME/spool/<sha24>/results/`` (``garrison.intake``). A person named in
an upload stays there after the lake forgets them, so ``SpoolRecords``:

* exports each matching line of a text file (path, line number, text), the matching lines
  of a multi-line JSON document (``results/summary.json``, a pretty-printed array), and
  names each binary file that holds the value (searched as UTF-8 and UTF-16 text) - never
  a whole file, which would hand other people's records to the requester;
* deletes by rewriting a text file without its matching lines (a temporary file, fsync,
  ``os.replace``: a reader sees the old file or the new, never half), and by removing a
  matching JSON document or binary file (a line cannot be cut out of either).

A line matches when its text holds the person as a whole word, or when it is a JSON
object whose text leaves do (a name hidden behind ``\\u`` escapes is found). The hunt has
already read the upload; what stays is the received copy, so removing lines loses no
stored event. File names (a sanitized upload name) are kept, like a lake event's
``source_path``.

``privacy_service`` lives here, at the top layer, because it is the lowest place that may
import both the response ledger and the spool.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from garrison.core.config import GarrisonConfig
from garrison.core.errors import storage_error
from garrison.correlate.privacy import PrivacyService
from garrison.correlate.subject_records import RecordCounts, SubjectRecords
from garrison.govern.access import Principal
from garrison.govern.audit import AuditLog
from garrison.govern.privacy import Matcher
from garrison.intake import SPOOL
from garrison.respond.subject_records import LedgerRecords
from garrison.store.state import StateDB

NAME = "intake_spool"


def privacy_service(
    config: GarrisonConfig, state: StateDB, audit: AuditLog, principal: Principal
) -> PrivacyService:
    """``PrivacyService`` of the home with every store that can hold a person: the CLI and
    the API build it here, so neither lists the providers itself."""
    records: Sequence[SubjectRecords] = (
        LedgerRecords(state),
        SpoolRecords(config.home / SPOOL),
    )
    return PrivacyService.for_config(config, state, audit, principal, records=records)


@dataclass(frozen=True, slots=True)
class _Match:
    """What one spool file holds about the person."""

    path: Path
    data: bytes  # the content the match was made on (a rewrite starts from it)
    kind: str  # "lines", "document" or "binary"
    lines: tuple[int, ...] = ()  # 1-based numbers of the matching lines
    texts: tuple[str, ...] = ()


class SpoolRecords:
    """The ``SubjectRecords`` of the upload spool (``HOME/spool``)."""

    name = NAME

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def find(self, matcher: Matcher) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for found in self._matches(matcher):
            where = self._where(found.path)
            if found.kind == "lines":
                records += [
                    {**where, "line": n, "text": text}
                    for n, text in zip(found.lines, found.texts, strict=True)
                ]
            elif found.kind == "document":
                lines = [
                    {"line": n, "text": t} for n, t in zip(found.lines, found.texts, strict=True)
                ]
                records.append({**where, "document": True, "lines": lines})
            else:
                records.append({**where, "binary": True, "bytes": len(found.data)})
        return records

    def forget(self, matcher: Matcher, replacement: str, apply: bool) -> dict[str, Any]:
        """Rewrite text files without the matching lines, remove matching documents and
        binary files (only with ``apply``). ``replacement`` is not used: a line is removed,
        not scrubbed (the upload is the sender's record, not Garrison's to edit)."""
        counts = RecordCounts(applied=apply)
        files = 0
        for found in self._matches(matcher):
            files += 1
            count = len(found.lines) if found.kind == "lines" else 1
            counts.found += count
            counts.removed += count
            if apply:
                try:
                    if found.kind == "lines":
                        _rewrite_without(found.path, found.data, set(found.lines))
                    else:
                        found.path.unlink(missing_ok=True)
                except OSError as exc:
                    raise storage_error(exc, f"the upload spool file {found.path}") from exc
        return {**counts.to_json(), "files": files}

    # -- reading ----------------------------------------------------------------------------
    def _where(self, path: Path) -> dict[str, Any]:
        rel = path.relative_to(self.folder)
        return {"upload": rel.parts[0], "path": rel.as_posix()}

    def _files(self) -> Iterator[Path]:
        """Every regular file under the spool, in a stable order; links are not followed."""
        if not self.folder.is_dir():
            return
        for root, dirs, names in os.walk(self.folder):
            dirs.sort()
            for name in sorted(names):
                path = Path(root, name)
                if path.is_file() and not path.is_symlink():
                    yield path

    def _matches(self, matcher: Matcher) -> Iterator[_Match]:
        for path in self._files():
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise storage_error(exc, f"the upload spool file {path}") from exc
            found = _match_file(path, data, matcher)
            if found is not None:
                yield found


def _match_file(path: Path, data: bytes, matcher: Matcher) -> _Match | None:
    text = _text_of(data)
    if text is None:
        return _Match(path, data, "binary") if _binary_mentions(data, matcher) else None
    numbers, texts = [], []
    for n, line in enumerate(data.splitlines(keepends=True), start=1):
        decoded = line.decode("utf-8")
        if _line_mentions(decoded, matcher):
            numbers.append(n)
            texts.append(decoded.rstrip("\r\n"))
    document = _document_of(text)
    if document is not None and (numbers or matcher.in_leaves(document)):
        return _Match(path, data, "document", tuple(numbers), tuple(texts))
    if document is None and numbers:
        return _Match(path, data, "lines", tuple(numbers), tuple(texts))
    return None


def _text_of(data: bytes) -> str | None:
    """The file as UTF-8 text, or None for a binary file (a NUL byte, or not UTF-8)."""
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _document_of(text: str) -> Any:
    """The JSON value of a multi-line JSON document (a pretty-printed summary or array);
    None for anything else, JSON lines included (each line is one record)."""
    body = text.strip()
    if "\n" not in body or body[:1] not in ("{", "["):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _line_mentions(line: str, matcher: Matcher) -> bool:
    if matcher.search(line):
        return True
    body = line.strip()
    if body[:1] not in ("{", "["):
        return False
    try:
        return matcher.in_leaves(json.loads(body))
    except ValueError:
        return False


def _binary_mentions(data: bytes, matcher: Matcher) -> bool:
    """The value in a binary file as UTF-8 or UTF-16 (either byte alignment) text."""
    views = (
        data.decode("utf-8", "replace"),
        data.decode("utf-16-le", "replace"),
        data[1:].decode("utf-16-le", "replace"),
    )
    return any(matcher.search(view) for view in views)


def _rewrite_without(path: Path, data: bytes, drop: set[int]) -> None:
    """``data`` (read from ``path``) without the lines numbered in ``drop``, replacing
    ``path`` atomically with the same mode."""
    kept = b"".join(
        line for n, line in enumerate(data.splitlines(keepends=True), start=1) if n not in drop
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.privacy.tmp")
    mode = path.stat().st_mode & 0o777
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(kept)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
