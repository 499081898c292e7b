"""The EVTX file header and chunk headers, read by hand.

Why this exists: the Rust ``evtx`` parser skips what it cannot read without saying so. A
file cut mid-chunk loses that chunk, a zeroed chunk in the middle of a file vanishes, and a
header that declares more chunks than the file holds is ignored. Reading the 4 KiB file
header and each 64 KiB chunk's 512-byte header ourselves lets the source account for every
chunk: parsed, or quarantined with the reason and the record ids it held.

Layout (little endian), as documented by the libevtx project:

- file header (first 4096-byte block): ``ElfFile\\0``, first/last chunk number (u64),
  next record id (u64), header size (u32, 128), minor/major version (u16, 1/3), block size
  (u16, 4096), chunk count (u16), flags (u32 at 120: 1 dirty, 2 full), CRC32 of bytes 0-119
  (u32 at 124).
- chunk (65536 bytes from offset 4096 + 65536 * i): ``ElfChnk\\0``, first/last record number
  (u64), first/last record id (u64), header size (u32, 128), last record offset (u32), free
  space offset (u32), CRC32 of the record data (u32), flags (u32 at 120), CRC32 of header
  bytes 0-119 and 128-511 (u32 at 124); records start at offset 512.
- record: ``**\\0\\0``, size (u32), record id (u64), written time (u64), BinXML, then the
  size again (u32) as the record's last four bytes.

The chunk header is not trusted for what to read: ``evtx`` stops at the header's free-space
offset and last record id, so zeroing those (24 bytes, checksums recomputed or not) would
hide every record of the chunk. ``scan_body`` finds the records from the body itself;
``repair_header`` rewrites a header that hides some of them before the parser sees it.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

FILE_MAGIC = b"ElfFile\x00"
CHUNK_MAGIC = b"ElfChnk\x00"
HEADER_BLOCK = 4096
CHUNK_SIZE = 65536
CHUNK_HEADER = 512
#: The smallest record (24-byte header, a few bytes of BinXML, 4-byte size copy) bounds how
#: many records one chunk can hold; a header claiming more is damaged.
MAX_RECORDS_PER_CHUNK = (CHUNK_SIZE - CHUNK_HEADER) // 28 + 1

_FILE_HEADER = struct.Struct("<8sQQQIHHHH")
_CHUNK_HEADER = struct.Struct("<8sQQQQIIII")
_ZERO_CHUNK = bytes(CHUNK_SIZE)


@dataclass(slots=True, frozen=True)
class FileHeader:
    """What the file header says; ``checksum_ok`` tells whether to believe the counts."""

    first_chunk: int
    last_chunk: int
    next_record_id: int
    header_size: int
    minor: int
    major: int
    block_size: int
    chunk_count: int
    flags: int
    checksum_ok: bool

    @property
    def dirty(self) -> bool:
        """Windows did not close the file cleanly: counts may lag behind the chunks."""
        return bool(self.flags & 1)

    @property
    def trusted_chunk_count(self) -> int | None:
        """The declared chunk count when the header is intact, else None."""
        if not self.checksum_ok or self.major != 3:
            return None
        return self.chunk_count


def parse_file_header(head: bytes) -> FileHeader | str:
    """The file header, or the reason the bytes are not a usable EVTX header."""
    if len(head) < 8 or head[:8] != FILE_MAGIC:
        return f"not an EVTX file: header starts with {head[:8]!r}, expected {FILE_MAGIC!r}"
    if len(head) < 128:
        return f"file truncated at byte {len(head)}: the 128-byte EVTX file header is incomplete"
    (_, first, last, next_id, size, minor, major, block, count) = _FILE_HEADER.unpack_from(head, 0)
    flags, crc = struct.unpack_from("<II", head, 120)
    ok = zlib.crc32(head[:120]) == crc
    return FileHeader(first, last, next_id, size, minor, major, block, count, flags, ok)


@dataclass(slots=True)
class ChunkInfo:
    """One 64 KiB chunk slot of the file as found on disk.

    ``status``: ``ok`` (has the chunk magic), ``empty`` (every byte zero: preallocated space
    or a wiped chunk), ``bad`` (neither: overwritten or not a chunk at all).
    """

    index: int
    offset: int
    length: int
    status: str
    first_id: int | None = None
    last_id: int | None = None
    header_crc_ok: bool = False
    data_crc_ok: bool = False
    magic: bytes = b""
    #: Why the parser would loop forever on this chunk ("" when it would not).
    loop: str = ""
    #: First and last id of the live records found in the body (``live_records``),
    #: whatever the header says; None when the body shows none.
    body_span: tuple[int, int] | None = None
    #: How the header disagrees with the body ("" when it does not): the header was
    #: repaired from the body before parsing, and what still is not read is quarantined.
    disagreement: str = ""

    @property
    def expected(self) -> int | None:
        """How many records the chunk header says it holds, when that is plausible."""
        if self.first_id is None or self.last_id is None:
            return None
        return self.last_id - self.first_id + 1

    def id_range(self) -> str:
        if self.first_id is None or self.last_id is None:
            return "record ids unknown"
        if self.first_id == self.last_id:
            return f"record {self.first_id}"
        return f"records {self.first_id}-{self.last_id}"


def inspect_chunk(index: int, offset: int, data: bytes) -> ChunkInfo:
    """Classify one chunk slot from its bytes (``data`` may be short when truncated)."""
    length = len(data)
    if data == _ZERO_CHUNK[:length]:
        return ChunkInfo(index, offset, length, "empty")
    magic = data[:8]
    if magic != CHUNK_MAGIC:
        return ChunkInfo(index, offset, length, "bad", magic=magic)
    info = ChunkInfo(index, offset, length, "ok", magic=magic)
    if length < CHUNK_HEADER:
        return info
    (_, _, _, first_id, last_id, _, _, free_off, data_crc) = _CHUNK_HEADER.unpack_from(data, 0)
    if 1 <= first_id <= last_id and last_id - first_id < MAX_RECORDS_PER_CHUNK:
        info.first_id, info.last_id = first_id, last_id
    live = live_records(scan_body(data))
    if live:
        info.body_span = (live[0][2], live[-1][2])
    info.disagreement = hidden_by_header(data, live)
    header_crc = struct.unpack_from("<I", data, 124)[0]
    info.header_crc_ok = zlib.crc32(data[128:CHUNK_HEADER], zlib.crc32(data[:120])) == header_crc
    if CHUNK_HEADER <= free_off <= length:
        info.data_crc_ok = zlib.crc32(data[CHUNK_HEADER:free_off]) == data_crc
    info.loop = link_cycle(data)  # checksums prove nothing against a crafted file
    return info


RECORD_MAGIC = b"**\x00\x00"
#: Smallest plausible record: 24-byte header, at least one BinXML token, the size copy.
MIN_RECORD = 28
_RECORD_HEAD = struct.Struct("<4sIQQ")
_U32 = struct.Struct("<I")

#: ``(offset, size, record id, written time)`` of each record found in a chunk body.
BodyRecord = tuple[int, int, int, int]


def scan_body(data: bytes) -> list[BodyRecord]:
    """The records in a chunk's body, found from the body alone (never the header).

    A record is accepted where its signature sits, its size fits the chunk and the size copy
    in its last four bytes agrees. The walk follows record sizes from offset 512 (the normal
    case: one unpack per record) and, where a record is damaged, searches for the next
    signature, so damage to one record cannot hide the ones after it.
    """
    size = min(len(data), CHUNK_SIZE)
    found: list[BodyRecord] = []
    unpack, u32 = _RECORD_HEAD.unpack_from, _U32.unpack_from
    pos = CHUNK_HEADER
    while pos + MIN_RECORD <= size and len(found) < MAX_RECORDS_PER_CHUNK:
        magic, length, rid, written = unpack(data, pos)
        if (
            magic == RECORD_MAGIC
            and MIN_RECORD <= length <= size - pos
            and u32(data, pos + length - 4)[0] == length
            and rid
        ):
            found.append((pos, length, rid, written))
            pos += length
            continue
        pos = data.find(RECORD_MAGIC, pos + 1, size)
        if pos < 0:
            break
    return found


def live_records(body: list[BodyRecord]) -> list[BodyRecord]:
    """The chunk's current records: the run of body records whose ids follow each other.

    A chunk reused by Windows keeps stale records of its earlier life past the free-space
    offset (seen in the corpus); their ids do not continue the live run (they jump, or go
    back), so they are left alone. Where a damaged record forced a search, the next id may
    skip as many ids as the skipped bytes could have held records, if it was not written
    before the run's latest record (stale records of a cleared log can go on from higher
    ids, but they are older).
    """
    if not body:
        return []
    run = [body[0]]
    latest = body[0][3]
    for record in body[1:]:
        offset, size, rid, _ = run[-1]
        gap = record[0] - (offset + size)
        step = record[2] - rid
        if gap == 0 and step != 1:
            break
        if gap and not (1 <= step <= 1 + gap // MIN_RECORD and record[3] >= latest):
            break
        run.append(record)
        latest = max(latest, record[3])
    return run


def hidden_by_header(data: bytes, live: list[BodyRecord]) -> str:
    """How the chunk header hides live records of its body from the parser, or "".

    The parser reads records while they start before the free-space offset and their id
    is at most the header's last record id; anything else in the body would vanish.
    """
    if len(data) < CHUNK_HEADER or not live:
        return ""
    (_, _, _, _, last_id, _, _, free_off, _) = _CHUNK_HEADER.unpack_from(data, 0)
    end = live[-1][0] + live[-1][1]
    problems = []
    if free_off < end:
        problems.append(f"free-space offset {free_off} but records end at {end}")
    if last_id < live[-1][2]:
        problems.append(f"last record id {last_id} but the body holds id {live[-1][2]}")
    return "; ".join(problems)


#: Common-string table (64 offsets) and template table (32 offsets) in the chunk header.
_LINK_TABLES = (("string", 128, 64), ("template", 384, 32))


def link_cycle(data: bytes) -> str:
    """Why the chunk's string/template link chains would send the parser round in circles,
    or "" when every chain ends.

    Each table entry starts a chain of entries, each beginning with the offset of the next
    (0 ends it). ``evtx`` 0.14 follows these without remembering where it has been, so a
    chain that comes back on itself (a -> b -> a) makes it loop forever; it only guards
    against an entry pointing at itself.
    """
    size = len(data)
    if size < CHUNK_HEADER:
        return ""
    unpack = _U32.unpack_from
    ends: set[int] = set()  # offsets already known to lead to the end of a chain
    for table, start, count in _LINK_TABLES:
        for slot, offset in enumerate(struct.unpack_from(f"<{count}I", data, start)):
            path: set[int] = set()
            while offset and offset + 4 <= size and offset not in ends:
                if offset in path:
                    return (
                        f"{table} table entry {slot} leads into a link cycle at chunk "
                        f"offset {offset}"
                    )
                path.add(offset)
                offset = unpack(data, offset)[0]
            ends |= path
    return ""


def synthetic_header() -> bytes:
    """A clean one-chunk file header, put in front of a single chunk for the parser.

    Parsing each chunk behind its own clean header means a damaged real header cannot stop
    the parser from reading intact chunks, and every record is known to come from one chunk.
    """
    head = bytearray(HEADER_BLOCK)
    _FILE_HEADER.pack_into(head, 0, FILE_MAGIC, 0, 0, 1, 128, 1, 3, HEADER_BLOCK, 1)
    struct.pack_into("<I", head, 120, 0)
    struct.pack_into("<I", head, 124, zlib.crc32(bytes(head[:120])))
    return bytes(head)


SYNTHETIC_HEADER = synthetic_header()


def repair_header(data: bytes) -> bytes:
    """The chunk with its header rewritten to cover every live record of its body.

    Returned unchanged when the header hides nothing. The record numbers and ids, the last
    record and free-space offsets and both checksums are set from the body, so the parser
    reads every record found there (link tables are left alone).
    """
    live = live_records(scan_body(data))
    if not hidden_by_header(data, live):
        return data
    first, last = live[0][2], live[-1][2]
    end = live[-1][0] + live[-1][1]
    chunk = bytearray(data)
    struct.pack_into("<QQQQ", chunk, 8, first, last, first, last)
    struct.pack_into("<II", chunk, 44, live[-1][0], end)
    struct.pack_into("<I", chunk, 52, zlib.crc32(bytes(chunk[CHUNK_HEADER:end])))
    header_crc = zlib.crc32(bytes(chunk[128:CHUNK_HEADER]), zlib.crc32(bytes(chunk[:120])))
    struct.pack_into("<I", chunk, 124, header_crc)
    return bytes(chunk)
