"""OTRF Security-Datasets ("Mordor") zips: JSON-lines Windows captures inside a zip.

Recognised by content: a zip (``PK\\x03\\x04``) whose first member starts with a JSON
object. Each member is read as JSON lines:

- position = the 1-based line number, counted across members in archive order (member 2's
  first line follows member 1's last), with the member name in ``RawRecord.meta["member"]``;
- a blank line is not a record: it is skipped, not counted as read, but it still takes its
  line number, so positions match the line numbers of the extracted file;
- a line that is not UTF-8 JSON, or not a JSON object, is quarantined with its line number;
- a member that is not JSON lines at all (binary, or text whose first lines are not JSON
  objects) is one quarantined entry, not thousands;
- zip-bomb guards: at most ``max_members`` members and ``max_member_bytes`` uncompressed
  bytes read per member (the rest is quarantined with the reason), lines longer than
  ``max_line_bytes`` are quarantined without being held in memory;
- a zip whose central directory is unreadable (truncated download) is read by streaming the
  first member from its local header, so the lines before the damage survive; the damage
  itself is quarantined.

The ``mordor`` normalizer maps Windows-shaped lines (OTRF flat/NXLog, Winlogbeat, EVTX JSON)
and hands any other JSON object to the generic JSON-lines normalizer, so a zip of other
JSON logs is not lost either.

Clock: the flat OTRF export writes ``TimeCreated`` in the capture machine's local time (even
when it ends in "Z", and sometimes on a 12-hour clock). The source learns the capture's
offset from Sysmon records, which carry both ``UtcTime`` and ``TimeCreated``, over the first
``clock_sample`` lines, and passes it to the normalizer as ``meta["clock_offset_ms"]`` when
at least three such records agree (90 %) on one offset.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from garrison.core.errors import RecordError
from garrison.core.events import Quarantined, RawRecord
from garrison.core.timeutil import parse_iso_ms
from garrison.ingest.base import SOURCES, Source, SourceItem

FORMAT = "mordor"
ZIP_MAGIC = b"PK\x03\x04"
#: RawRecord.meta key for the capture's clock correction (ms to add to local TimeCreated).
CLOCK_OFFSET_META = "clock_offset_ms"
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_BLOCK = 1 << 20
_QUARTER_HOUR_MS = 15 * 60 * 1000
_JSON_NAMES = (".json", ".jsonl", ".ndjson", ".log", ".txt")


@SOURCES.register(FORMAT)
class MordorSource(Source):
    """Zips of JSON-lines Windows events (OTRF Security-Datasets and the like)."""

    format = FORMAT
    priority = 20
    max_members: int = 1_000
    max_member_bytes: int = 2 << 30
    max_line_bytes: int = 64 << 20
    clock_sample: int = 5_000

    @classmethod
    def sniff(cls, head: bytes, path: Path) -> bool:
        if head[:4] != ZIP_MAGIC:
            return False
        sample = first_member_sample(head)
        return sample is not None and sample.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"

    def read(self, path: Path) -> Iterator[SourceItem]:
        where = str(path)
        with path.open("rb") as fh:  # a file that cannot be opened raises OSError: the contract
            try:
                archive = zipfile.ZipFile(fh)
            except Exception as exc:  # zipfile raises many types on garbage
                yield from self._salvage(path, where, f"{type(exc).__name__}: {exc}")
                return
            with archive:
                yield from self._archive(archive, where)

    def _archive(self, archive: zipfile.ZipFile, where: str) -> Iterator[SourceItem]:
        members = [info for info in archive.infolist() if not info.is_dir()]
        counter = _Lines()
        for info in members[: self.max_members]:
            yield from self._clocked(self._member(archive, info, where, counter))
        if len(members) > self.max_members:
            extra = len(members) - self.max_members
            yield Quarantined(
                where,
                None,
                f"{extra} members beyond the first {self.max_members} not read (zip-bomb guard)",
                FORMAT,
            )

    def _member(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, counter: _Lines
    ) -> Iterator[SourceItem]:
        name = info.filename
        if info.flag_bits & 0x1:
            yield Quarantined(where, None, f"member {name!r} is encrypted", FORMAT)
            return
        try:
            stream = archive.open(info)
        except (NotImplementedError, zipfile.BadZipFile, RuntimeError, ValueError, OSError) as exc:
            yield Quarantined(
                where, None, f"member {name!r} unreadable: {type(exc).__name__}: {exc}", FORMAT
            )
            return
        with stream:
            yield from read_json_lines(
                stream, name, where, counter, self.max_member_bytes, self.max_line_bytes
            )

    def _salvage(self, path: Path, where: str, why: str) -> Iterator[SourceItem]:
        """Stream the first member from its local header when the directory is unreadable."""
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
            member = _local_member(head)
            if member is None:
                yield Quarantined(
                    where, None, f"not a readable zip ({why})", FORMAT, head[:32].hex(" ")
                )
                return
            name, start, method = member
            if method not in (0, 8):
                yield Quarantined(
                    where,
                    None,
                    f"zip unreadable ({why}) and its first member uses compression method {method}",
                    FORMAT,
                )
                return
            fh.seek(start)
            stream = _RawInflate(fh, method)
            counter = _Lines()
            yield from self._clocked(
                read_json_lines(
                    stream, name, where, counter, self.max_member_bytes, self.max_line_bytes
                )
            )
            yield Quarantined(
                where,
                None,
                f"zip damaged ({why}): member {name!r} read up to "
                f"line {counter.line} by streaming; the rest of "
                "the archive is lost",
                FORMAT,
            )

    def _clocked(self, items: Iterator[SourceItem]) -> Iterator[SourceItem]:
        """Hold back the first lines until the capture's clock offset is known."""
        held: list[SourceItem] = []
        estimate = _ClockEstimate()
        for item in items:
            held.append(item)
            if isinstance(item, RawRecord):
                estimate.add(item.data)
            if len(held) >= self.clock_sample or estimate.settled():
                break
        offset = estimate.offset()
        for item in held:
            yield _with_offset(item, offset)
        for item in items:
            yield _with_offset(item, offset)


@dataclass(slots=True)
class _Lines:
    """Line numbers run on across the members of one archive."""

    line: int = 0


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def read_json_lines(
    stream: _Readable, member: str, where: str, counter: _Lines, max_bytes: int, max_line: int
) -> Iterator[SourceItem]:
    """JSON objects of one member, one per line; see the module docstring for the rules."""
    total = 0
    pending = b""
    skipping = False  # inside an over-long line: drop bytes until its newline
    first = True
    meta_member = member
    try:
        while True:
            block = stream.read(min(_BLOCK, max_bytes - total + 1))
            if not block:
                break
            total += len(block)
            if total > max_bytes:
                yield Quarantined(
                    where,
                    counter.line + 1,
                    f"member {member!r}: stopped after "
                    f"{max_bytes} uncompressed bytes (zip-bomb guard)",
                    FORMAT,
                )
                return
            if first:
                first = False
                problem = _not_json_lines(block)
                if problem:
                    yield Quarantined(
                        where,
                        None,
                        f"member {member!r} is not JSON lines: {problem}",
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
            for line in lines:
                counter.line += 1
                item = _line_item(line, counter.line, meta_member, where)
                if item is not None:
                    yield item
            if len(pending) > max_line:
                counter.line += 1
                yield Quarantined(
                    where,
                    counter.line,
                    f"line longer than {max_line} bytes (not read)",
                    FORMAT,
                    _excerpt(pending),
                )
                pending = b""
                skipping = True
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        RuntimeError,
        ValueError,
        NotImplementedError,
        struct.error,
    ) as exc:
        if pending and not skipping:
            counter.line += 1
            yield Quarantined(
                where,
                counter.line,
                f"member {member!r} unreadable from here: {type(exc).__name__}: {exc}",
                FORMAT,
                _excerpt(pending),
            )
        else:
            yield Quarantined(
                where,
                counter.line + 1,
                f"member {member!r} unreadable after "
                f"line {counter.line}: "
                f"{type(exc).__name__}: {exc}",
                FORMAT,
            )
        return
    if pending and not skipping:
        counter.line += 1
        item = _line_item(pending, counter.line, meta_member, where)
        if item is not None:
            yield item


def _line_item(line: bytes, number: int, member: str, where: str) -> SourceItem | None:
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
            _excerpt(line),
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


def _not_json_lines(block: bytes) -> str:
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


def _excerpt(data: bytes) -> str:
    return data[:200].decode("utf-8", "backslashreplace")


# ----------------------------------------------------------------------------- clock


class _ClockEstimate:
    """Offset between Sysmon ``UtcTime`` (true UTC) and the export's ``TimeCreated``."""

    def __init__(self) -> None:
        self.votes: Counter[int] = Counter()
        self.flat = False

    def add(self, data: dict[str, Any]) -> None:
        if "SourceModuleType" in data or "EventReceivedTime" in data:
            return  # NXLog export: its times are corrected per record
        utc, local = data.get("UtcTime"), data.get("TimeCreated")
        if type(utc) is not str or type(local) is not str:
            return
        if "sysmon" not in str(data.get("Channel", "")).lower():
            return
        try:
            diff = parse_iso_ms(utc) - parse_iso_ms(local)
        except RecordError:
            return
        self.votes[round(diff / _QUARTER_HOUR_MS) * _QUARTER_HOUR_MS] += 1

    def settled(self) -> bool:
        return sum(self.votes.values()) >= 50

    def offset(self) -> int | None:
        total = sum(self.votes.values())
        if total < 3:
            return None
        best, count = self.votes.most_common(1)[0]
        return best if count * 10 >= total * 9 and best else None


def _with_offset(item: SourceItem, offset: int | None) -> SourceItem:
    if offset is not None and isinstance(item, RawRecord):
        item.meta[CLOCK_OFFSET_META] = offset
    return item


# ----------------------------------------------------------------------------- raw zip


def first_member_sample(head: bytes, size: int = 4096) -> bytes | None:
    """The first bytes of the first member, decompressed from the sniff window."""
    member = _local_member(head)
    if member is None:
        return None
    name, start, method = member
    data = head[start:]
    if method == 0:
        return data[:size]
    if method == 8:
        try:
            return zlib.decompressobj(-15).decompress(data, size)
        except zlib.error:
            return None
    return b"{" if name.lower().endswith(_JSON_NAMES) else None


def _local_member(head: bytes) -> tuple[str, int, int] | None:
    if len(head) < _LOCAL_HEADER.size or head[:4] != ZIP_MAGIC:
        return None
    (_, _, flags, method, _, _, _, _, _, name_len, extra_len) = _LOCAL_HEADER.unpack_from(head, 0)
    if flags & 0x1:
        return None
    start = _LOCAL_HEADER.size + name_len + extra_len
    name = head[_LOCAL_HEADER.size : _LOCAL_HEADER.size + name_len].decode("utf-8", "replace")
    return name, start, method


class _RawInflate:
    """A read()-able stream over a raw (stored or deflated) member, from a file position."""

    def __init__(self, fh: IO[bytes], method: int) -> None:
        self.fh = fh
        self.inflate = zlib.decompressobj(-15) if method == 8 else None

    def read(self, size: int = -1) -> bytes:
        size = _BLOCK if size is None or size < 0 else size
        if self.inflate is None:
            return self.fh.read(size)
        out = b""
        while not out:
            if self.inflate.unconsumed_tail:
                out = self.inflate.decompress(self.inflate.unconsumed_tail, size)
                continue
            if self.inflate.eof:
                return b""
            raw = self.fh.read(1 << 16)
            if not raw:
                raise EOFError("compressed data ends early (archive truncated)")
            out = self.inflate.decompress(raw, size)
        return out
