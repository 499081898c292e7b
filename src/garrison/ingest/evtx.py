"""Windows EVTX files, read with the Rust-backed ``evtx`` parser, one chunk at a time.

Why chunk by chunk: ``evtx`` silently drops chunks it cannot read (a file cut mid-chunk, a
zeroed chunk, a chunk with a broken signature all come back as "no records, no error").
This source walks the file's 64 KiB chunk slots itself (see ``_evtx_layout``), has each
chunk parsed behind a clean synthetic file header, and compares what came back with the
record numbers the chunk header promises. Every record is either yielded or accounted for
by a ``Quarantined`` entry that names the chunk, the records and the cause:

- a record the parser rejects: one entry at its record number;
- a chunk the parser rejects, hangs on, or that has no signature, a zeroed chunk followed
  by more data (or inside the declared chunk count), a chunk cut short by truncation: one
  entry per chunk (position = its first lost record number when known);
- chunks the file header declares but the file no longer holds: one entry per chunk (at
  most 64, then one for the rest).

Chunk headers are not trusted for what to read: ``evtx`` reads only up to a chunk header's
free-space offset and last record id, so a 24-byte edit (ids and free space zeroed,
checksums recomputed or not) would hide a whole chunk. The live records are found in the
chunk body (``_evtx_layout.scan_body``/``live_records``); a header that hides some of them
is rewritten from the body before parsing (``repair_header``), the records carry
``meta["integrity"]`` saying so, and what still cannot be read is quarantined with its ids.

A truncated last chunk is padded and parsed anyway, so the records before the cut survive.
A file whose header is not an EVTX header becomes one quarantined entry. A zero-length file
yields nothing, like any other empty input (the pipeline counts it as empty, nothing lost).

Positions: a record's position is its System/EventRecordID (what Event Viewer, analysts and
other tools quote). Quarantine entries can only name the file's record numbers (record
header ids, which the chunk headers count in): they equal the EventRecordID in logs Windows
wrote itself, but an exported subset ("Save filtered log file as") renumbers them 1..N.
When the two differ the record carries its number as ``meta["record_number"]``.
``RawRecord.text`` is the record's JSON as the parser wrote it, ``RawRecord.data`` that JSON
parsed once into a dict. A record from a chunk whose data checksum fails carries
``meta["integrity"]``.

Hangs: ``evtx`` 0.14 loops forever, holding the GIL, on chunks whose string/template link
chains form a cycle (found by fuzzing, reproduced with synthetic chunks). Such chunks are
recognised up front (``link_cycle``) and quarantined, whatever the mode. As a backstop for
loops nobody has found yet, chunks can be parsed in a worker process with a deadline
(``_evtx_worker``), where a loop costs ``chunk_timeout`` seconds and one quarantined chunk,
never the run (after three, a file's remaining chunks are quarantined unparsed). By default
(``isolate = "auto"``) only damaged chunks (a checksum fails) go to the worker: intact
chunks, the normal case, are parsed in-process without the round trip. Accidental damage
breaks a checksum; a crafted file can recompute them, so deployments that ingest
attacker-supplied EVTX files should set ``isolate = "always"`` (measured cost in the
report: about 1-2 ms per file and a worker process).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from garrison.core.events import Quarantined, RawRecord
from garrison.ingest._evtx_layout import (
    CHUNK_HEADER,
    CHUNK_SIZE,
    FILE_MAGIC,
    HEADER_BLOCK,
    ChunkInfo,
    FileHeader,
    inspect_chunk,
    parse_file_header,
)
from garrison.ingest._evtx_worker import BAD_JSON, RECORD, RECORD_ERROR, ChunkRunner, Items
from garrison.ingest.base import SOURCES, Source, SourceItem

FORMAT = "evtx"
#: Beyond this many chunks missing at the end of a file, one entry covers the rest.
MAX_MISSING_ENTRIES = 64
_RECORD_NO = re.compile(r"record number (\d+)")
_CHUNK_PREFIX = re.compile(r"^Failed to parse chunk number \d+: ")


@SOURCES.register(FORMAT)
class EvtxSource(Source):
    """Reads ``.evtx`` files (recognised by the ``ElfFile\\0`` signature, never the name)."""

    format = FORMAT
    priority = 10
    #: Which chunks the parser reads in its worker process, where a chunk that hangs it
    #: cannot hang the run: "auto" (damaged chunks: a checksum fails), "always" (hostile
    #: input: also crafted chunks whose checksums were recomputed), "never".
    isolate: str = "auto"
    #: Seconds one 64 KiB chunk may take before it is declared hostile (normal: < 10 ms).
    chunk_timeout: float = 5.0
    #: Allowed values of settings, checked when ``[ingest.evtx]`` is read from the config.
    setting_choices: ClassVar[dict[str, tuple[str, ...]]] = {"isolate": ("auto", "always", "never")}

    @classmethod
    def sniff(cls, head: bytes, path: Path) -> bool:
        return head[:8] == FILE_MAGIC

    def read(self, path: Path) -> Iterator[SourceItem]:
        # read_evtx is itself a generator: returning it saves a layer of delegation per record
        return read_evtx(path, str(path), self.isolate, self.chunk_timeout)


def read_evtx(
    path: Path, where: str | None = None, isolate: str = "auto", timeout: float = 5.0
) -> Iterator[SourceItem]:
    """Every record of an EVTX file, or a quarantine entry in its place.

    ``where`` is the name quarantine entries carry (default: the path). ``isolate`` says
    which chunks the parser reads in its worker process, with ``timeout`` seconds per chunk
    (``"auto"``: damaged ones; ``"always"``; ``"never"``: see ``_evtx_worker.ChunkRunner``).
    """
    where = str(path) if where is None else where
    with path.open("rb") as fh:
        size = _size_of(fh)
        head = fh.read(HEADER_BLOCK)
        if not head:
            return
        header = parse_file_header(head)
        if isinstance(header, str):
            yield Quarantined(where, None, header, FORMAT, _hex(head[:32]))
            return
        walker = _ChunkWalker(fh, str(path), where, size, header, ChunkRunner(isolate, timeout))
        yield from walker.walk()


def _intact(info: ChunkInfo) -> bool:
    """Both checksums hold and the header hides nothing its body holds."""
    return info.header_crc_ok and info.data_crc_ok and not info.disagreement


def _size_of(fh: BinaryIO) -> int:
    try:
        return os.fstat(fh.fileno()).st_size
    except (OSError, AttributeError, io.UnsupportedOperation):
        pass
    here = fh.tell()
    end = fh.seek(0, io.SEEK_END)
    fh.seek(here)
    return end


class _ChunkWalker:
    """Walks the chunk slots of one file in order; see the module docstring for the rules.

    Chunks that cannot be parsed at all (no signature, zeroed) are held back as "holes" until
    the next good chunk, whose first record id, with the last id seen before the hole, tells
    which record ids were lost.
    """

    def __init__(
        self,
        fh: BinaryIO,
        path: str,
        where: str,
        size: int,
        header: FileHeader,
        runner: ChunkRunner,
    ) -> None:
        self.fh = fh
        self.path = path
        self.runner = runner
        self.where = where
        self.size = size
        self.header = header
        body = max(0, size - HEADER_BLOCK)
        self.slots = body // CHUNK_SIZE + (1 if body % CHUNK_SIZE else 0)
        self.declared = header.trusted_chunk_count
        #: "chunk k of N": the declared count when the header is intact, else the slots.
        self.total = self.declared if self.declared is not None else self.slots
        #: Highest record id read or promised so far: the lower edge of the next hole.
        self.last_id = 0
        #: The file header's next record id, when it can be believed (intact, clean close).
        self.end_id = (
            header.next_record_id if (self.declared is not None and not header.dirty) else None
        )

    def walk(self) -> Iterator[SourceItem]:
        if self.size < HEADER_BLOCK and not self.declared:
            if not self.header.checksum_ok:
                yield self._q(
                    None,
                    f"file truncated at byte {self.size}, inside the "
                    f"{HEADER_BLOCK}-byte header block, and the header "
                    "checksum does not match",
                )
            return
        infos = self._scan()
        todo = [
            (info.index, info.offset, _intact(info))
            for info in infos
            if info.status == "ok" and info.length >= CHUNK_HEADER and not info.loop
        ]
        repair = {info.index for info in infos if info.disagreement}
        answers = self.runner.results(self.path, todo, repair)
        holes: list[ChunkInfo] = []
        try:
            for info in infos:
                if info.status != "ok":
                    holes.append(info)
                    continue
                yield from self._holes(holes, info.first_id, more_data=True)
                holes.clear()
                if info.length < CHUNK_HEADER:
                    yield self._q(
                        None,
                        f"{self._name(info)} unreadable: file truncated at "
                        f"byte {self.size}, inside the chunk header",
                    )
                    continue
                if info.loop:  # known to hang the parser: never hand it over
                    yield from self._account(
                        info, set(), f"{info.loop} (the parser would loop forever on it)"
                    )
                    continue
                index, answer = next(answers)
                if index != info.index:  # cannot happen: the runner answers in order
                    answer = f"internal: answer for chunk {index + 1} instead"
                yield from self._finish(info, answer)
            for _ in answers:  # let the runner read the worker's end-of-request frame
                pass
        finally:
            answers.close()
        yield from self._holes(holes, self.end_id, more_data=False)
        yield from self._missing()

    def _scan(self) -> list[ChunkInfo]:
        """Every chunk slot's state, from the bytes on disk (one sequential read)."""
        self.fh.seek(HEADER_BLOCK)
        return [
            inspect_chunk(index, HEADER_BLOCK + index * CHUNK_SIZE, self.fh.read(CHUNK_SIZE))
            for index in range(self.slots)
        ]

    def _holes(
        self, holes: list[ChunkInfo], next_id: int | None, more_data: bool
    ) -> Iterator[SourceItem]:
        """Entries for unparseable chunks; trailing zeroed chunks are preallocated space."""
        reported = [
            info
            for info in holes
            if info.status == "bad"
            or more_data
            or (self.declared is not None and info.index < self.declared)
        ]
        if not reported:
            return
        lost = ""
        position = None
        if next_id is not None and next_id > self.last_id + 1:
            first, last = self.last_id + 1, next_id - 1
            position = first
            span = f"record {first}" if first == last else f"records {first}-{last}"
            lost = (
                f"; {span} lost"
                if len(reported) == 1
                else (
                    f"; {span} lost across chunks {reported[0].index + 1}-{reported[-1].index + 1}"
                )
            )
        for info in reported:
            cut = f", file truncated at byte {self.size}" if info.length < CHUNK_SIZE else ""
            if info.status == "bad":
                why = f"no chunk signature (starts with {info.magic!r})"
            elif more_data:
                why = "every byte is zero but later chunks hold records (wiped or never flushed)"
            else:
                why = f"every byte is zero, but the file header declares {self.declared} chunks"
            yield self._q(
                position,
                f"{self._name(info)} unreadable: {why}{cut}{lost}",
                _hex(info.magic) if info.status == "bad" else "",
            )
            position = None

    def _missing(self) -> Iterator[SourceItem]:
        if self.declared is None or self.declared <= self.slots:
            return
        cause = f"file truncated at byte {self.size}"
        if self.end_id is not None and self.end_id > self.last_id + 1:
            cause += f"; records {self.last_id + 1}-{self.end_id - 1} lost"
        last = min(self.declared, self.slots + MAX_MISSING_ENTRIES)
        for index in range(self.slots, last):
            yield self._q(None, f"chunk {index + 1} of {self.declared} missing: {cause}")
        if last < self.declared:
            yield self._q(
                None, f"chunks {last + 1}-{self.declared} of {self.declared} missing: {cause}"
            )

    def _finish(self, info: ChunkInfo, answer: Items | str) -> Iterator[SourceItem]:
        """Records (or quarantine entries) from the worker's answer for one chunk."""
        truncated = info.length < CHUNK_SIZE
        cut = f"file truncated at byte {self.size}" if truncated else ""
        if isinstance(answer, str):  # the worker hung or died on this chunk
            yield from self._account(info, set(), f"{answer}{'; ' + cut if cut else ''}")
            return
        seen: set[int] = set()
        chunk_error = ""
        suspect = _suspicion(info, truncated)
        where = self.where
        for kind, rid, text, data in answer:
            if kind == RECORD:
                seen.add(rid)
                record = RawRecord(_event_record_id(data, rid), data, text)
                if record.position != rid:  # exported subset: keep the file's numbering
                    record.meta["record_number"] = rid
                if suspect:
                    record.meta["integrity"] = suspect
                yield record
            elif kind == BAD_JSON:
                seen.add(rid)
                yield self._q(rid, f"parser returned invalid JSON: {text}")
            elif kind == RECORD_ERROR and (match := _RECORD_NO.search(text)) is not None:
                rid = int(match.group(1))
                seen.add(rid)
                yield Quarantined(where, rid, f"record {rid} unreadable: {_tail(text)}", FORMAT)
            else:
                chunk_error = _chunk_message(text)
        if seen:
            self.last_id = max(self.last_id, max(seen))
        yield from self._account(info, seen, chunk_error or cut)

    def _account(self, info: ChunkInfo, seen: set[int], cause: str) -> Iterator[SourceItem]:
        """One entry for the records the chunk header promises but nobody yielded."""
        if info.last_id is not None:  # read or lost, these ids are behind us now
            self.last_id = max(self.last_id, info.last_id)
        if info.body_span is not None:
            self.last_id = max(self.last_id, info.body_span[1])
        name = self._name(info)
        # what the header promises and what the body holds: a header can hide records
        promised = set(range(info.body_span[0], info.body_span[1] + 1) if info.body_span else ())
        if info.first_id is not None and info.last_id is not None:
            promised.update(range(info.first_id, info.last_id + 1))
        if not promised:
            if cause and not seen:
                yield self._q(None, f"{name} unreadable ({info.id_range()}): {cause}")
            elif cause:
                yield self._q(
                    None,
                    f"{name}: records after id {max(seen)} may be lost "
                    f"(chunk header damaged): {cause}",
                )
            return
        lost = sorted(promised - seen)
        if not lost:
            return
        span = f"id {lost[0]}" if len(lost) == 1 else f"ids {lost[0]}-{lost[-1]}"
        why = cause or "the parser returned nothing for them"
        if info.disagreement:
            why += f" (chunk header disagrees with its body: {info.disagreement})"
        yield self._q(
            lost[0], f"{name}: {len(lost)} of {len(promised)} records unreadable ({span}): {why}"
        )

    def _name(self, info: ChunkInfo) -> str:
        if info.index < self.total:
            return f"chunk {info.index + 1} of {self.total}"
        return f"chunk {info.index + 1} (beyond the {self.total} the file header declares)"

    def _q(self, position: int | None, reason: str, excerpt: str = "") -> Quarantined:
        return Quarantined(self.where, position, reason, FORMAT, excerpt)


def _suspicion(info: ChunkInfo, truncated: bool) -> str:
    """Why the chunk's records may not be what was written ("" when nothing says so)."""
    if info.disagreement:
        return (
            f"chunk header disagrees with its body ({info.disagreement}): read from the "
            "body; content may be altered"
        )
    if not truncated and not info.data_crc_ok:
        return "chunk data checksum mismatch: content may be altered"
    return ""


def _event_record_id(data: Any, number: int) -> int:
    """The record's System/EventRecordID; the file's record number when it has none.

    The two are equal in logs Windows wrote itself, but an exported subset ("Save filtered
    log file as") renumbers the records 1..N and keeps the original EventRecordID in the
    event, which is the id analysts and other tools quote.
    """
    try:
        value = data["Event"]["System"]["EventRecordID"]
    except (KeyError, TypeError):
        return number
    return value if type(value) is int and value >= 0 else number


def _chunk_message(text: str) -> str:
    return _CHUNK_PREFIX.sub("", text)[:300] or "unknown parser error"


def _tail(message: str) -> str:
    """The parser's message without its generic prefixes, kept short."""
    for noise in ("An error occurred while trying to deserialize evtx stream.: ",):
        message = message.replace(noise, "")
    _, _, rest = message.partition(": ")
    return (rest or message)[:300]


def _hex(data: bytes) -> str:
    return data.hex(" ")
