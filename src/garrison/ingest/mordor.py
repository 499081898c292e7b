"""OTRF Security-Datasets ("Mordor") zips: JSON-lines Windows captures inside a zip.

Recognised by content: a zip (``PK\\x03\\x04``) whose first member starts with a JSON
object, or any of whose first ``SNIFF_MEMBERS`` members does (a README first must not hide
the captures after it). Each member is read as JSON lines (``_ziplines``):

- position = the 1-based line number, counted across members in archive order (member 2's
  first line follows member 1's last), with the member name in ``RawRecord.meta["member"]``;
- a blank line is not a record: it is skipped, not counted as read, but it still takes its
  line number, so positions match the line numbers of the extracted file;
- a line that is not UTF-8 JSON, or not a JSON object, is quarantined with its line number;
- a member that is not JSON lines at all (binary, or text whose first lines are not JSON
  objects) is one quarantined entry, not thousands;
- zip-bomb guards (``_zipguard``): at most ``max_members`` members, ``max_member_bytes``
  uncompressed bytes per member and ``max_total_bytes`` per archive, ``max_lines`` lines
  (blank ones included) per archive, ``max_records`` records per member, a compression
  ratio of ``max_ratio`` once ``ratio_floor`` bytes are expanded, and no member whose data
  overlaps another's; each breach is a quarantined entry with the reason, lines longer
  than ``max_line_bytes`` are quarantined without being held in memory; all are
  ``[ingest.mordor]`` settings;
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

import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from garrison.core.errors import RecordError
from garrison.core.events import Quarantined, RawRecord
from garrison.core.timeutil import parse_iso_ms
from garrison.ingest._zipguard import ArchiveLimits, Budget, declared_ratio_problem, overlapping
from garrison.ingest._ziplines import Lines, MemberReader
from garrison.ingest.base import SOURCES, Source, SourceItem

FORMAT = "mordor"
ZIP_MAGIC = b"PK\x03\x04"
#: RawRecord.meta key for the capture's clock correction (ms to add to local TimeCreated).
CLOCK_OFFSET_META = "clock_offset_ms"
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_BLOCK = 1 << 20
_QUARTER_HOUR_MS = 15 * 60 * 1000
_JSON_NAMES = (".json", ".jsonl", ".ndjson", ".log", ".txt")
#: How many members sniffing looks into when the first one is not JSON.
SNIFF_MEMBERS = 1_000


@SOURCES.register(FORMAT)
class MordorSource(Source):
    """Zips of JSON-lines Windows events (OTRF Security-Datasets and the like).

    The limits are ``[ingest.mordor]`` settings (see ``_zipguard`` for what each counts);
    the defaults sit far above real captures (the largest OTRF zip in the corpus unpacks
    to 43 MB, 6,026 lines, at a ratio of 61:1).
    """

    format = FORMAT
    priority = 20
    max_members: int = 1_000
    max_member_bytes: int = 2 << 30
    #: Uncompressed bytes read from one archive, all members together.
    max_total_bytes: int = 2 << 30
    max_line_bytes: int = 64 << 20
    #: Lines of one archive, blank ones included (each costs a split and a look).
    max_lines: int = 10_000_000
    #: Records (objects and quarantined lines) of one member.
    max_records: int = 5_000_000
    #: Uncompressed / compressed size of a member (real captures: 16-61).
    max_ratio: float = 200.0
    #: The ratio is checked once an archive expands past this many bytes.
    ratio_floor: int = 256 << 10
    clock_sample: int = 5_000

    @classmethod
    def sniff(cls, head: bytes, path: Path) -> bool:
        if head[:4] != ZIP_MAGIC:
            return False
        sample = first_member_sample(head)
        if sample is not None and _looks_json(sample):
            return True
        return _any_member_json(path)

    def limits(self) -> ArchiveLimits:
        return ArchiveLimits(
            max_member_bytes=self.max_member_bytes,
            max_total_bytes=self.max_total_bytes,
            max_line_bytes=self.max_line_bytes,
            max_lines=self.max_lines,
            max_records=self.max_records,
            max_ratio=float(self.max_ratio),
            ratio_floor=self.ratio_floor,
        )

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
        kept = members[: self.max_members]
        refused = overlapping(kept)
        limits, budget, counter = self.limits(), Budget(), Lines()
        for index, info in enumerate(kept):
            if budget.exhausted:
                left = len(kept) - index
                yield Quarantined(
                    where, None, f"{left} members not read: {budget.exhausted}", FORMAT
                )
                break
            problem = refused.get(index) or declared_ratio_problem(info, budget, limits)
            if problem:
                if not problem.startswith("member "):
                    problem = f"member {info.filename!r}: {problem}; not read"
                yield Quarantined(where, None, problem, FORMAT)
                continue
            budget.declared += info.file_size
            budget.packed += info.compress_size
            reader = MemberReader(info.filename, where, counter, limits, budget)
            yield from self._clocked(self._member(archive, info, where, reader))
        if len(members) > self.max_members:
            extra = len(members) - self.max_members
            yield Quarantined(
                where,
                None,
                f"{extra} members beyond the first {self.max_members} not read (zip-bomb guard)",
                FORMAT,
            )

    def _member(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, reader: MemberReader
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
            yield from reader.read(stream)

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
            counter = Lines()
            reader = MemberReader(
                name, where, counter, self.limits(), Budget(), packed=lambda: stream.consumed
            )
            yield from self._clocked(reader.read(stream))
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


def _looks_json(sample: bytes) -> bool:
    return sample.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _any_member_json(path: Path) -> bool:
    """Whether one of the first ``SNIFF_MEMBERS`` members starts with a JSON object (reads
    at most 4 KiB of each; anything unreadable just does not count)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if not i.is_dir() and not i.flag_bits & 1]
            for info in members[:SNIFF_MEMBERS]:
                try:
                    with archive.open(info) as stream:
                        if _looks_json(stream.read(4096)):
                            return True
                except Exception:  # noqa: S112  (a damaged member is not evidence)
                    continue
    except Exception:  # zipfile raises many types on garbage
        return False
    return False


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
    """A read()-able stream over a raw (stored or deflated) member, from a file position;
    ``consumed`` counts the compressed bytes taken from the file (for the ratio guard)."""

    def __init__(self, fh: IO[bytes], method: int) -> None:
        self.fh = fh
        self.inflate = zlib.decompressobj(-15) if method == 8 else None
        self.taken = 0

    @property
    def consumed(self) -> int:
        """Compressed bytes the output so far came from (not the ones still waiting)."""
        if self.inflate is None:
            return self.taken
        return self.taken - len(self.inflate.unconsumed_tail) - len(self.inflate.unused_data)

    def read(self, size: int = -1) -> bytes:
        size = _BLOCK if size is None or size < 0 else size
        if self.inflate is None:
            data = self.fh.read(size)
            self.taken += len(data)
            return data
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
            self.taken += len(raw)
            out = self.inflate.decompress(raw, size)
        return out
