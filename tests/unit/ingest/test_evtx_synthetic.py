"""EVTX source on synthetic files (no corpus): headers, chunk walk, accounting, hang guard.

Synthetic chunks hold no records (writing BinXML by hand is out of scope); tests that need
real records cut them from the corpus at test time (test_evtx_cuts.py).
"""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path

import pytest

from garrison.core.events import Quarantined, RawRecord
from garrison.ingest._evtx_layout import (
    CHUNK_SIZE,
    FILE_MAGIC,
    HEADER_BLOCK,
    SYNTHETIC_HEADER,
    hidden_by_header,
    inspect_chunk,
    link_cycle,
    live_records,
    parse_file_header,
    repair_header,
    scan_body,
)
from garrison.ingest._evtx_worker import CHUNK_ERROR, ChunkRunner, parse_chunk_items
from garrison.ingest.evtx import EvtxSource, read_evtx


def file_header(chunks: int, flags: int = 0, next_id: int = 1, good_crc: bool = True) -> bytes:
    head = bytearray(HEADER_BLOCK)
    struct.pack_into(
        "<8sQQQIHHHH",
        head,
        0,
        FILE_MAGIC,
        0,
        max(chunks - 1, 0),
        next_id,
        128,
        1,
        3,
        HEADER_BLOCK,
        chunks,
    )
    struct.pack_into("<I", head, 120, flags)
    crc = zlib.crc32(bytes(head[:120]))
    struct.pack_into("<I", head, 124, crc if good_crc else crc ^ 1)
    return bytes(head)


def chunk(
    first: int = 1,
    last: int = 1,
    links: dict[int, int] | None = None,
    words: dict[int, int] | None = None,
) -> bytes:
    """A chunk with a valid header and no records; ``links`` sets string/template table
    slots (0-63 strings, 64-95 templates), ``words`` any u32 in the chunk."""
    data = bytearray(CHUNK_SIZE)
    struct.pack_into(
        "<8sQQQQIIII",
        data,
        0,
        b"ElfChnk\x00",
        first,
        last,
        first,
        last,
        128,
        512,
        512,
        zlib.crc32(b""),
    )
    for slot, value in (links or {}).items():
        struct.pack_into("<I", data, 128 + 4 * slot, value)
    for offset, value in (words or {}).items():
        struct.pack_into("<I", data, offset, value)
    header_crc = zlib.crc32(bytes(data[128:512]), zlib.crc32(bytes(data[:120])))
    struct.pack_into("<I", data, 124, header_crc)
    return bytes(data)


CYCLE = {"links": {0: 1000}, "words": {1000: 2000, 2000: 1000}}


def write(tmp_path: Path, data: bytes, name: str = "x.evtx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def items_of(path: Path, **kw: object) -> list[RawRecord | Quarantined]:
    return list(read_evtx(path, **kw))  # type: ignore[arg-type]


def reasons(items: list[RawRecord | Quarantined]) -> list[str]:
    return [i.reason for i in items if isinstance(i, Quarantined)]


# ----------------------------------------------------------------------------- headers


def test_sniff() -> None:
    assert EvtxSource.sniff(file_header(1), Path("a"))
    assert not EvtxSource.sniff(b"ElfChnk\x00", Path("a.evtx"))
    assert not EvtxSource.sniff(b"", Path("a.evtx"))


def test_file_header() -> None:
    header = parse_file_header(file_header(5, flags=1, next_id=99))
    assert not isinstance(header, str)
    assert header.chunk_count == 5 and header.dirty and header.next_record_id == 99
    assert header.trusted_chunk_count == 5
    damaged = parse_file_header(file_header(5, good_crc=False))
    assert not isinstance(damaged, str) and damaged.trusted_chunk_count is None
    assert "not an EVTX file" in str(parse_file_header(b"MZ" + bytes(200)))
    assert "128-byte EVTX file header is incomplete" in str(parse_file_header(FILE_MAGIC))


def test_inspect_chunk() -> None:
    assert inspect_chunk(0, 0, bytes(CHUNK_SIZE)).status == "empty"
    assert inspect_chunk(0, 0, b"\x01" * 100).status == "bad"
    info = inspect_chunk(2, 4096, chunk(10, 19))
    assert info.status == "ok" and (info.first_id, info.last_id, info.expected) == (10, 19, 10)
    assert info.header_crc_ok and info.data_crc_ok and info.loop == ""
    nonsense = inspect_chunk(0, 0, chunk(50, 10))
    assert nonsense.first_id is None and nonsense.expected is None
    huge = inspect_chunk(0, 0, chunk(1, 10**9))
    assert huge.expected is None


def test_link_cycles() -> None:
    assert link_cycle(chunk()) == ""
    assert "string table entry 0" in link_cycle(chunk(**CYCLE))  # type: ignore[arg-type]
    template = chunk(links={64: 3000}, words={3000: 3100, 3100: 3200, 3200: 3000})
    assert "template table entry 0" in link_cycle(template)
    assert link_cycle(chunk(links={5: 1000}, words={1000: 2000, 2000: 0})) == ""
    assert link_cycle(chunk(links={5: 65534})) == ""  # out of bounds: the parser errors out


def test_synthetic_header_is_valid() -> None:
    header = parse_file_header(SYNTHETIC_HEADER)
    assert not isinstance(header, str) and header.checksum_ok and header.chunk_count == 1


# ----------------------------------------------------------------------------- walking files


def test_zero_length_file_yields_nothing(tmp_path: Path) -> None:
    assert items_of(write(tmp_path, b"")) == []


def test_garbage_header_is_one_entry(tmp_path: Path) -> None:
    items = items_of(write(tmp_path, b"MZ\x90" + bytes(5000)))
    assert len(items) == 1 and "not an EVTX file" in reasons(items)[0]


def test_cut_inside_the_header(tmp_path: Path) -> None:
    items = items_of(write(tmp_path, file_header(2)[:300]))
    assert reasons(items) == [
        "chunk 1 of 2 missing: file truncated at byte 300",
        "chunk 2 of 2 missing: file truncated at byte 300",
    ]
    assert items_of(write(tmp_path, FILE_MAGIC + bytes(20), "b.evtx"))[0].position is None


def test_header_only_with_declared_chunks(tmp_path: Path) -> None:
    items = items_of(write(tmp_path, file_header(3, next_id=120)))
    assert reasons(items) == [
        f"chunk {i} of 3 missing: file truncated at byte 4096; records 1-119 lost"
        for i in (1, 2, 3)
    ]


def test_header_only_clean_file_has_nothing(tmp_path: Path) -> None:
    assert items_of(write(tmp_path, file_header(0))) == []


def test_missing_chunks_are_capped(tmp_path: Path) -> None:
    items = items_of(write(tmp_path, file_header(500)))
    assert len(items) == 65
    assert reasons(items)[-1].startswith("chunks 65-500 of 500 missing")


def test_chunk_without_records_is_accounted(tmp_path: Path) -> None:
    items = items_of(write(tmp_path, file_header(1) + chunk(7, 9)))
    assert len(items) == 1 and items[0].position == 7
    assert reasons(items) == [
        "chunk 1 of 1: 3 of 3 records unreadable (ids 7-9): the parser returned nothing for them"
    ]


def test_zeroed_and_overwritten_chunks(tmp_path: Path) -> None:
    data = (
        file_header(4, next_id=40)
        + chunk(1, 9)
        + bytes(CHUNK_SIZE)
        + b"\x13" * CHUNK_SIZE
        + chunk(30, 39)
    )
    items = items_of(write(tmp_path, data))
    got = reasons(items)
    assert got[0].startswith("chunk 1 of 4: 9 of 9 records unreadable")
    assert got[1] == (
        "chunk 2 of 4 unreadable: every byte is zero but later chunks hold "
        "records (wiped or never flushed); records 10-29 lost across chunks 2-3"
    )
    assert got[2].startswith(
        "chunk 3 of 4 unreadable: no chunk signature (starts with b'\\x13\\x13"
    )
    assert got[3].startswith("chunk 4 of 4: 10 of 10 records unreadable (ids 30-39)")
    assert [i.position for i in items] == [1, 10, None, 30]


def test_trailing_zero_chunks_are_preallocated_space(tmp_path: Path) -> None:
    data = file_header(1) + chunk(1, 2) + bytes(CHUNK_SIZE) * 2
    assert len(items_of(write(tmp_path, data))) == 1  # only the empty chunk's accounting
    declared = file_header(3, next_id=5) + chunk(1, 2) + bytes(CHUNK_SIZE) * 2
    got = reasons(items_of(write(tmp_path, declared, "b.evtx")))
    assert got[1].startswith(
        "chunk 2 of 3 unreadable: every byte is zero, but the file "
        "header declares 3 chunks; records 3-4 lost across chunks 2-3"
    )


def test_truncated_chunk_inside_its_header(tmp_path: Path) -> None:
    data = file_header(2) + chunk(1, 2) + chunk(3, 4)[:300]
    got = reasons(items_of(write(tmp_path, data)))
    assert got[-1] == (
        "chunk 2 of 2 unreadable: file truncated at byte 69932, inside the chunk header"
    )


def test_dirty_header_and_damaged_checksum_are_not_trusted(tmp_path: Path) -> None:
    dirty = file_header(9, flags=1, next_id=500) + chunk(1, 1)
    got = reasons(items_of(write(tmp_path, dirty)))
    assert all("records 2-499" not in r for r in got)  # a dirty header's next id is stale
    damaged = file_header(9, good_crc=False) + chunk(1, 1)
    assert not any("missing" in r for r in reasons(items_of(write(tmp_path, damaged, "d.evtx"))))


def test_cycle_chunk_is_quarantined_without_parsing(tmp_path: Path) -> None:
    data = file_header(2) + chunk(1, 5, **CYCLE) + chunk(6, 6)  # type: ignore[arg-type]
    started = time.monotonic()
    got = reasons(items_of(write(tmp_path, data)))
    assert time.monotonic() - started < 5
    assert got[0] == (
        "chunk 1 of 2: 5 of 5 records unreadable (ids 1-5): string table "
        "entry 0 leads into a link cycle at chunk offset 1000 (the parser would "
        "loop forever on it)"
    )
    assert got[1].startswith("chunk 2 of 2: 1 of 1 records unreadable (id 6)")


# ----------------------------------------------------------------------------- the worker


def test_worker_times_out_on_a_hanging_chunk_and_recovers(tmp_path: Path) -> None:
    """The real parser really loops on a link cycle: the worker is killed, the next chunk
    is parsed by a fresh one."""
    path = write(tmp_path, file_header(2) + chunk(1, 1, **CYCLE) + b"\x00" * 600)  # type: ignore[arg-type]
    runner = ChunkRunner(isolate="always", timeout=0.5)
    started = time.monotonic()
    answers = list(
        runner.results(str(path), [(0, HEADER_BLOCK, True), (1, HEADER_BLOCK + CHUNK_SIZE, True)])
    )
    assert time.monotonic() - started < 10
    assert answers[0] == (
        0,
        "the parser did not finish within 0.5 s (it loops on this chunk); worker stopped",
    )
    assert answers[1][0] == 1 and answers[1][1] == []  # a zero chunk: no records, no error


def test_worker_gives_up_on_a_file_after_max_hangs(tmp_path: Path) -> None:
    hang = chunk(1, 1, **CYCLE)  # type: ignore[arg-type]
    path = write(tmp_path, file_header(4) + hang * 4)
    runner = ChunkRunner(isolate="always", timeout=0.3)
    runner.max_hangs = 2
    answers = [
        a
        for _, a in runner.results(
            str(path), [(i, HEADER_BLOCK + i * CHUNK_SIZE, True) for i in range(4)]
        )
    ]
    assert [str(a).split(" ")[1] for a in answers] == ["parser", "parser", "parsed:", "parsed:"]
    assert answers[2] == "not parsed: 2 chunks of this file already hung the parser"


def test_in_process_parse_of_garbage() -> None:
    items = parse_chunk_items(b"\x00" * 100)
    assert items == []
    bad = parse_chunk_items(b"ElfChnk\x00" + b"\xff" * (CHUNK_SIZE - 8))
    assert all(kind in (CHUNK_ERROR, 1) for kind, *_ in bad)


@pytest.mark.parametrize("isolate", ["auto", "always", "never"])
def test_source_read_accounts_for_each_item(tmp_path: Path, isolate: str) -> None:
    data = file_header(3, next_id=30) + chunk(1, 9) + b"\x55" * CHUNK_SIZE
    source = EvtxSource()
    source.isolate = isolate
    items = list(source.read(write(tmp_path, data)))
    assert items and all(
        isinstance(i, Quarantined) and i.reason and i.source_format == "evtx" for i in items
    )


def test_auto_mode_sends_only_damaged_chunks_to_the_worker(tmp_path: Path) -> None:
    """An intact chunk is parsed in-process; a chunk whose checksum fails goes to the worker
    (where a loop would cost a timeout, not the run)."""
    intact = chunk(1, 1)
    damaged = bytearray(chunk(2, 2))
    damaged[600] = 1  # record data changed, data checksum no longer holds
    path = write(tmp_path, file_header(2) + intact + bytes(damaged))
    runner = ChunkRunner(isolate="auto", timeout=2.0)
    plan = [runner._in_worker(ok) for ok in (True, False)]
    assert plan == [False, True]
    answers = list(
        runner.results(str(path), [(0, HEADER_BLOCK, True), (1, HEADER_BLOCK + CHUNK_SIZE, False)])
    )
    assert [index for index, _ in answers] == [0, 1]
    with pytest.raises(ValueError, match="isolate must be one of"):
        ChunkRunner(isolate="sometimes")


# ----------------------------------------------------------------------------- chunk bodies


def fake_record(rid: int, size: int = 64, written: int = 1000, fill: bytes = b"\xff") -> bytes:
    """A record frame (signature, size, id, time, size copy) around ``fill`` bytes: 0xff is
    no BinXML token, 0x0f (start of stream, repeated) the parser reads as an empty event."""
    body = struct.pack("<4sIQQ", b"**\x00\x00", size, rid, written)
    return body + fill * (size - len(body) - 4) + struct.pack("<I", size)


def chunk_with(records: list[bytes], first: int = 0, last: int = 0, free: int = 0) -> bytes:
    data = bytearray(chunk(first or 1, last or 1))
    body = b"".join(records)
    data[512 : 512 + len(body)] = body
    struct.pack_into("<QQQQ", data, 8, first, last, first, last)
    struct.pack_into("<I", data, 48, free)
    return bytes(data)


def test_scan_body_finds_records_whatever_the_header_says() -> None:
    data = chunk_with([fake_record(i) for i in range(1, 6)])
    assert [rid for _, _, rid, _ in scan_body(data)] == [1, 2, 3, 4, 5]
    live = live_records(scan_body(data))
    assert len(live) == 5
    assert "free-space offset 0" in hidden_by_header(data, live)
    assert "last record id 0" in hidden_by_header(data, live)
    info = inspect_chunk(0, HEADER_BLOCK, data)
    assert info.body_span == (1, 5) and info.disagreement


def test_scan_body_resyncs_after_a_damaged_record() -> None:
    records = [fake_record(i) for i in range(1, 6)]
    records[2] = b"XX" + records[2][2:]  # record 3 loses its signature
    live = live_records(scan_body(chunk_with(records)))
    assert [rid for _, _, rid, _ in live] == [1, 2, 4, 5]


def test_stale_records_after_the_live_run_are_left_alone() -> None:
    live = [fake_record(i, written=2000) for i in range(1, 4)]
    older = [fake_record(i, written=1000) for i in range(10, 13)]  # a cleared log's leftovers
    going_back = [fake_record(i, written=3000) for i in (1, 2)]  # ids go back
    for tail in (older, [b"\x00" * 96, *older], going_back):
        found = live_records(scan_body(chunk_with(live + tail)))
        assert [rid for _, _, rid, _ in found] == [1, 2, 3]


def test_repair_header_covers_the_body_and_leaves_good_headers_alone() -> None:
    records = [fake_record(i) for i in range(7, 10)]
    end = 512 + 3 * 64
    good = chunk_with(records, 7, 9, end)
    assert repair_header(good) == good
    fixed = repair_header(chunk_with(records))
    assert struct.unpack_from("<QQQQ4xII", fixed, 8) == (7, 9, 7, 9, end - 64, end)
    info = inspect_chunk(0, HEADER_BLOCK, fixed)
    assert info.header_crc_ok and info.data_crc_ok and not info.disagreement


@pytest.mark.parametrize("isolate", ["always", "never"])
def test_records_hidden_by_a_zeroed_header_are_never_lost_silently(
    tmp_path: Path, isolate: str
) -> None:
    """Records behind a zeroed header are read from the body; junk the parser cannot read
    comes back quarantined record by record."""
    readable = chunk_with([fake_record(i, fill=b"\x0f") for i in range(1, 6)])
    items = items_of(write(tmp_path, file_header(1) + readable), isolate=isolate)
    assert [i.position for i in items if isinstance(i, RawRecord)] == [1, 2, 3, 4, 5]
    assert all("chunk header disagrees" in i.meta["integrity"] for i in items)
    junk = chunk_with([fake_record(i) for i in range(1, 6)])
    lost = items_of(write(tmp_path, file_header(1) + junk), isolate=isolate)
    assert all(isinstance(i, Quarantined) for i in lost)
    assert [i.position for i in lost] == [1, 2, 3, 4, 5]
