"""One zip member read as JSON lines, under the archive's zip-bomb guards.

Split from ``mordor`` (which walks the archive) so the per-line rules and the limits that
count lines, records and bytes sit in one place. The rules (see ``mordor``): position = the
1-based line number across the archive's members; a blank line is no record but takes its
number (and counts against ``max_lines``: splitting it costs like any other line); a line
that is not UTF-8 JSON or not an object is quarantined with its number; a member that is
not JSON lines at all is one entry; over-long lines are dropped without being held.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from garrison.core.events import Quarantined, RawRecord
from garrison.ingest._zipguard import ArchiveLimits, Budget, too_compressed
from garrison.ingest.base import SourceItem

FORMAT = "mordor"
_BLOCK = 1 << 20
#: What a damaged member may raise while it is read.
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    ValueError,
    NotImplementedError,
    struct.error,
)


@dataclass(slots=True)
class Lines:
    """Line numbers run on across the members of one archive."""

    line: int = 0


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Stop(Exception):
    """A limit was reached; ``entry`` says which."""

    def __init__(self, entry: Quarantined) -> None:
        super().__init__(entry.reason)
        self.entry = entry


class MemberReader:
    """Reads one member; ``packed`` (when given) tells how many compressed bytes have been
    consumed so far, for the ratio check of members streamed without a directory."""

    def __init__(
        self,
        member: str,
        where: str,
        counter: Lines,
        limits: ArchiveLimits,
        budget: Budget,
        packed: Callable[[], int] | None = None,
    ) -> None:
        self.member = member
        self.where = where
        self.counter = counter
        self.limits = limits
        self.budget = budget
        self.packed = packed
        self.total = 0
        self.records = 0

    def read(self, stream: Readable) -> Iterator[SourceItem]:
        """The member's items; a breached limit ends them with one quarantine entry."""
        try:
            yield from self._read(stream)
        except _Stop as stop:
            yield stop.entry

    def _q(self, position: int | None, reason: str, excerpt: str = "") -> Quarantined:
        return Quarantined(
            self.where, position, f"member {self.member!r}: {reason}", FORMAT, excerpt
        )

    def _read(self, stream: Readable) -> Iterator[SourceItem]:
        pending = b""
        skipping = False  # inside an over-long line: drop bytes until its newline
        first = True
        counter = self.counter
        try:
            while True:
                block = self._block(stream)
                if not block:
                    break
                if first:
                    first = False
                    problem = not_json_lines(block)
                    if problem:
                        yield Quarantined(
                            self.where,
                            None,
                            f"member {self.member!r} is not JSON lines: {problem}",
                            FORMAT,
                            block[:60].hex(" "),
                        )
                        return
                if skipping:  # drop the rest of an over-long line, up to its newline
                    newline = block.find(b"\n")
                    if newline < 0:
                        continue
                    block, skipping = block[newline + 1 :], False
                lines = (pending + block).split(b"\n")
                pending = lines.pop()
                yield from self._lines(lines)
                if len(pending) > self.limits.max_line_bytes:
                    counter.line += 1
                    yield self._q(
                        counter.line,
                        f"line longer than {self.limits.max_line_bytes} bytes (not read)",
                        excerpt(pending),
                    )
                    pending = b""
                    skipping = True
        except _READ_ERRORS as exc:
            yield self._damaged(exc, pending if not skipping else b"")
            return
        if pending and not skipping:
            yield from self._lines([pending])

    def _block(self, stream: Readable) -> bytes:
        """The next block, after the byte and ratio limits have been checked."""
        limits, budget = self.limits, self.budget
        room = min(limits.max_member_bytes - self.total, limits.max_total_bytes - budget.expanded)
        block = stream.read(min(_BLOCK, max(room, 0) + 1))
        self.total += len(block)
        budget.expanded += len(block)
        after = self.counter.line + 1
        if self.total > limits.max_member_bytes:
            raise _Stop(
                self._q(
                    after,
                    f"stopped after {limits.max_member_bytes} uncompressed bytes "
                    "(zip-bomb guard), the max_member_bytes setting",
                )
            )
        if budget.expanded > limits.max_total_bytes:
            budget.exhausted = (
                f"the archive reached max_total_bytes ({limits.max_total_bytes} "
                "uncompressed bytes; zip-bomb guard)"
            )
            raise _Stop(self._q(after, f"stopped: {budget.exhausted}"))
        if self.packed is not None:
            problem = too_compressed(
                self.total, self.packed(), limits.ratio_floor, limits.max_ratio
            )
            if problem:
                raise _Stop(self._q(after, f"stopped: {problem}"))
        return block

    def _lines(self, lines: list[bytes]) -> Iterator[SourceItem]:
        counter, limits = self.counter, self.limits
        room = limits.max_lines - counter.line
        over = len(lines) > room
        if over:
            lines = lines[: max(room, 0)]
        member, where = self.member, self.where
        for line in lines:
            counter.line += 1
            item = line_item(line, counter.line, member, where)
            if item is None:
                continue
            if self.records >= limits.max_records:
                raise _Stop(
                    self._q(
                        counter.line,
                        f"stopped after {limits.max_records} records (max_records; "
                        "zip-bomb guard); the rest of the member not read",
                    )
                )
            self.records += 1
            yield item
        if over:
            self.budget.exhausted = (
                f"the archive reached max_lines ({limits.max_lines} lines, blank ones "
                "included; zip-bomb guard)"
            )
            raise _Stop(self._q(counter.line + 1, f"stopped: {self.budget.exhausted}"))

    def _damaged(self, exc: Exception, pending: bytes) -> Quarantined:
        counter = self.counter
        if pending:
            counter.line += 1
            return Quarantined(
                self.where,
                counter.line,
                f"member {self.member!r} unreadable from here: {type(exc).__name__}: {exc}",
                FORMAT,
                excerpt(pending),
            )
        return Quarantined(
            self.where,
            counter.line + 1,
            f"member {self.member!r} unreadable after line {counter.line}: "
            f"{type(exc).__name__}: {exc}",
            FORMAT,
        )


def line_item(line: bytes, number: int, member: str, where: str) -> SourceItem | None:
    if line.endswith(b"\r"):
        line = line[:-1]
    if not line.strip():
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Quarantined(
            where,
            number,
            f"line is not UTF-8 ({exc.reason} at byte {exc.start})",
            FORMAT,
            excerpt(line),
        )
    try:
        data = json.loads(text)
    except ValueError as exc:  # includes RecursionError-free JSONDecodeError
        return Quarantined(where, number, f"not JSON: {exc}", FORMAT, text[:200])
    except RecursionError:
        return Quarantined(where, number, "JSON nested too deeply", FORMAT, text[:200])
    if type(data) is not dict:
        return Quarantined(
            where, number, f"not a JSON object ({type(data).__name__})", FORMAT, text[:200]
        )
    return RawRecord(number, data, text, {"member": member})


def not_json_lines(block: bytes) -> str:
    """Why a member's first block is not JSON lines, or "" when it looks like it is."""
    sample = block[:8192]
    if b"\x00" in sample:
        return "binary content (NUL bytes)"
    lines = [ln.strip() for ln in sample.split(b"\n")[:20] if ln.strip()]
    if len(lines) > 1 or sample.endswith(b"\n") or len(block) < 8192:
        complete = lines
    else:
        complete = lines[:-1] or lines
    if not complete:
        return ""
    objects = sum(1 for ln in complete if ln.lstrip(b"\xef\xbb\xbf")[:1] == b"{")
    if objects * 2 < len(complete):
        return f"{len(complete) - objects} of the first {len(complete)} lines are not objects"
    return ""


def excerpt(data: bytes) -> str:
    return data[:200].decode("utf-8", "backslashreplace")
