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
from collections.abc import Callable, Iterator, Sequence
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


#: Bytes of a binary file searched at a time (windows overlap, so no match is cut).
CHUNK = 1 << 20
#: Bytes read to tell a binary file (a NUL byte in them) from a text file.
_HEAD = 1 << 16
#: A multi-line JSON file up to this size is parsed as one document; a larger one is read
#: as lines (its matching lines cut like any text file's).
DOCUMENT_MAX = 16 << 20


@dataclass(frozen=True, slots=True)
class _Match:
    """What one spool file holds about the person."""

    path: Path
    kind: str  # "lines", "document" or "binary"
    size: int
    lines: tuple[int, ...] = ()  # 1-based numbers of the matching lines
    texts: tuple[str, ...] = ()


class SpoolRecords:
    """The ``SubjectRecords`` of the upload spool (``HOME/spool``)."""

    name = NAME

    def __init__(self, folder: Path, chunk: int = CHUNK) -> None:
        self.folder = Path(folder)
        self.chunk = chunk

    def find(self, matcher: Matcher) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for found in self._matches(matcher):
            where = self._where(found.path)
            lines = [{"line": n, "text": t} for n, t in zip(found.lines, found.texts, strict=True)]
            if found.kind == "lines":
                records += [{**where, **line} for line in lines]
            elif found.kind == "document":
                records.append({**where, "document": True, "lines": lines})
            else:
                records.append({**where, "binary": True, "bytes": found.size})
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
                        _rewrite_without(found.path, set(found.lines))
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
                found = self._match_file(path, matcher)
            except OSError as exc:
                raise storage_error(exc, f"the upload spool file {path}") from exc
            if found is not None:
                yield found

    def _match_file(self, path: Path, matcher: Matcher) -> _Match | None:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(_HEAD)
        if b"\0" in head:
            hit = _binary_mentions(path, matcher, self.chunk)
            return _Match(path, "binary", size) if hit else None
        numbers, texts = _matching_lines(path, matcher)
        document = _document_of(path, head, size)
        if document is not None and (numbers or matcher.in_leaves(document)):
            return _Match(path, "document", size, numbers, texts)
        if document is None and numbers:
            return _Match(path, "lines", size, numbers, texts)
        return None


#: The characters other than ASCII that a case-insensitive pattern takes for an ASCII one
#: (``tests/unit/correlate/test_subject_records.py`` recomputes the list from ``re``).
ASCII_ALIKE = {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}


def quick_test(matcher: Matcher) -> Callable[[str], bool]:
    """A test that holds for every text the matcher finds the person in, at a fraction of
    its cost (a substring search, no lookarounds): lines that fail it are not searched.
    For a person with a name beyond ASCII it holds for every text."""
    if not all(term.isascii() for term in matcher.terms):
        return lambda _text: True
    folded = [term.lower() for term in matcher.terms]

    def maybe(text: str) -> bool:
        if not text.isascii():  # rare in logs; str.replace is much cheaper than translate
            for odd, plain in ASCII_ALIKE.items():
                text = text.replace(odd, plain)
        low = text.lower()
        return any(term in low for term in folded)

    return maybe


def _matching_lines(path: Path, matcher: Matcher) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The numbers and texts of the lines naming the person, read one line at a time (a
    line that is not UTF-8 is searched with its bad bytes replaced)."""
    numbers: list[int] = []
    texts: list[str] = []
    maybe = quick_test(matcher)
    with path.open("rb") as handle:
        for n, raw in enumerate(handle, start=1):
            line = raw.decode("utf-8", "replace")
            if _line_mentions(line, matcher, maybe):
                numbers.append(n)
                texts.append(line.rstrip("\r\n"))
    return tuple(numbers), tuple(texts)


def _document_of(path: Path, head: bytes, size: int) -> Any:
    """The JSON value of a multi-line JSON document (a pretty-printed summary or array) of
    at most ``DOCUMENT_MAX`` bytes; None for anything else, JSON lines included (each line
    is one record)."""
    if size > DOCUMENT_MAX or head.lstrip()[:1] not in (b"{", b"["):
        return None
    body = path.read_bytes().strip()
    if b"\n" not in body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _line_mentions(line: str, matcher: Matcher, maybe: Callable[[str], bool]) -> bool:
    if maybe(line) and matcher.search(line):
        return True
    body = line.strip()
    if body[:1] not in ("{", "[") or "\\" not in body:
        return False  # without an escape, a JSON line's values are its text: searched above
    try:
        values = json.loads(body)
    except ValueError:
        return False
    return maybe("\n".join(_leaves(values))) and matcher.in_leaves(values)


def _leaves(obj: Any, depth: int = 0) -> Iterator[str]:
    """The text of every value inside nested dicts and lists (what ``in_leaves`` reads)."""
    if depth > 64:
        return
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, list):
        for value in obj:
            yield from _leaves(value, depth + 1)
    elif obj is not None and not isinstance(obj, bool):
        yield str(obj)


def _binary_mentions(path: Path, matcher: Matcher, chunk: int) -> bool:
    """The person in a binary file as UTF-8 or UTF-16 (either byte alignment) text, read
    ``chunk`` bytes at a time in overlapping windows.

    A window's edge is not a word boundary, and a character cut in half there decodes as
    replacement marks: a match counts only when the window holds ``_EDGE`` characters on
    each side of it (or the file's own start or end). The overlap is wide enough that a
    match near one window's edge lies whole, with those neighbours, in the next."""
    longest = max((len(t) for t in matcher.terms), default=0)
    overlap = 8 * longest + 64  # even: UTF-16 alignment is kept from window to window
    chunk = max(chunk, 2 * overlap) // 2 * 2
    maybe = quick_test(matcher)
    with path.open("rb") as handle:
        tail, first = b"", True
        block = handle.read(chunk)
        while block:
            following = handle.read(chunk)
            window = tail + block
            for view in filter(maybe, _views(window)):
                low = 0 if first else _EDGE
                high = len(view) - (_EDGE if following else 0)
                if any(low <= start and end <= high for start, end in matcher.spans(view)):
                    return True
            tail, first, block = window[-overlap:], False, following
    return False


#: Characters a window must hold beside a match: the matcher looks two characters to
#: each side, and a UTF-8 character cut at the window's start decodes as up to three
#: replacement marks (a UTF-16 one as one).
_EDGE = 6


def _views(data: bytes) -> tuple[str, str, str]:
    return (
        data.decode("utf-8", "replace"),
        data.decode("utf-16-le", "replace"),
        data[1:].decode("utf-16-le", "replace"),
    )


def _rewrite_without(path: Path, drop: set[int]) -> None:
    """``path`` without the lines numbered in ``drop``, replaced atomically (a temporary
    file beside it with the same mode, fsync, rename), streamed one line at a time."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.privacy.tmp")
    mode = path.stat().st_mode & 0o777
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as out, path.open("rb") as source:
            for n, line in enumerate(source, start=1):
                if n not in drop:
                    out.write(line)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
