"""EVTX source on a real file from the corpus, cut and damaged at test time.

The file is read from ../shared/corpus when present (skipped otherwise); nothing from it is
stored in the repository.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from pathlib import Path

import pytest
from evtx import PyEvtxParser

from garrison.core.events import Quarantined, RawRecord
from garrison.ingest._evtx_layout import CHUNK_SIZE, HEADER_BLOCK
from garrison.ingest.evtx import read_evtx

pytestmark = pytest.mark.corpus

SAMPLE = "evtx-attack-samples/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx"
_SPAN = re.compile(r"(?:ids?|records?) (\d+)(?:-(\d+))?")


@pytest.fixture(scope="module")
def sample(corpus: Path) -> bytes:
    path = corpus / SAMPLE
    if not path.is_file():
        pytest.skip(f"{SAMPLE} not in the corpus")
    return path.read_bytes()


def chunk_at(index: int) -> int:
    return HEADER_BLOCK + index * CHUNK_SIZE


def run(tmp_path: Path, data: bytes, **kw: object) -> tuple[list[RawRecord], list[Quarantined]]:
    path = tmp_path / "cut.evtx"
    path.write_bytes(data)
    items = list(read_evtx(path, **kw))  # type: ignore[arg-type]
    return (
        [i for i in items if isinstance(i, RawRecord)],
        [i for i in items if isinstance(i, Quarantined)],
    )


def number(record: RawRecord) -> int:
    """The file's record number (positions are System/EventRecordIDs)."""
    return int(record.meta.get("record_number", record.position))


def covered(quarantined: list[Quarantined]) -> set[int]:
    """Record ids the quarantine reasons say were lost (first span named in each)."""
    ids: set[int] = set()
    for q in quarantined:
        match = _SPAN.search(q.reason.split(":", 1)[-1]) or _SPAN.search(q.reason)
        if match:
            first = int(match.group(1))
            ids.update(range(first, int(match.group(2) or first) + 1))
    return ids


def test_intact_file_matches_the_bare_parser(sample: bytes, tmp_path: Path) -> None:
    records, quarantined = run(tmp_path, sample)
    assert not quarantined
    path = tmp_path / "cut.evtx"
    bare = list(PyEvtxParser(str(path), number_of_threads=1).records_json())
    assert [number(r) for r in records] == [b["event_record_id"] for b in bare]
    assert [r.text for r in records] == [b["data"] for b in bare]
    assert all(r.data == json.loads(r.text) for r in records)
    assert all(r.position == r.data["Event"]["System"]["EventRecordID"] for r in records)
    assert records[0].position == 3572 and records[0].meta["record_number"] == 1


@pytest.mark.parametrize("isolate", ["auto", "always", "never"])
def test_truncated_mid_chunk_salvages_and_accounts(
    sample: bytes, tmp_path: Path, isolate: str
) -> None:
    cut = chunk_at(3) + 30_000
    records, quarantined = run(tmp_path, sample[:cut], isolate=isolate)
    ids = {number(r) for r in records}
    assert ids == set(range(1, len(ids) + 1)) and len(ids) > 124  # chunk 4 partly salvaged
    reasons = [q.reason for q in quarantined]
    assert reasons[0].startswith(
        f"chunk 4 of 15: {162 - len(ids)} of 38 records unreadable "
        f"(ids {len(ids) + 1}-162): file truncated at byte {cut}"
    )
    assert reasons[1:] == [
        f"chunk {i} of 15 missing: file truncated at byte {cut}; records 163-565 lost"
        for i in range(5, 16)
    ]
    assert ids | covered(quarantined) == set(range(1, 566))


def test_truncated_at_a_chunk_boundary(sample: bytes, tmp_path: Path) -> None:
    records, quarantined = run(tmp_path, sample[: chunk_at(3)])
    assert len(records) == 124 and len(quarantined) == 12
    assert quarantined[0].reason.startswith("chunk 4 of 15 missing")


def test_zeroed_chunk_in_the_middle(sample: bytes, tmp_path: Path) -> None:
    data = bytearray(sample)
    data[chunk_at(2) : chunk_at(3)] = bytes(CHUNK_SIZE)
    records, quarantined = run(tmp_path, bytes(data))
    assert len(quarantined) == 1 and quarantined[0].position == 88
    assert "every byte is zero" in quarantined[0].reason
    assert "records 88-124 lost" in quarantined[0].reason
    assert {number(r) for r in records} | covered(quarantined) == set(range(1, 566))


def test_overwritten_chunk_signature(sample: bytes, tmp_path: Path) -> None:
    data = bytearray(sample)
    data[chunk_at(2) + 2] ^= 0xFF
    records, quarantined = run(tmp_path, bytes(data))
    assert len(records) == 528 and len(quarantined) == 1
    assert "no chunk signature" in quarantined[0].reason


def test_smashed_record_is_quarantined_alone(sample: bytes, tmp_path: Path) -> None:
    data = bytearray(sample)
    data[chunk_at(2) + 5000 : chunk_at(2) + 5100] = b"\xff" * 100
    records, quarantined = run(tmp_path, bytes(data))
    assert [q.position for q in quarantined] == [89]
    assert quarantined[0].reason.startswith("record 89 unreadable: ")
    assert len(records) == 564 and 89 not in {number(r) for r in records}


def test_dirty_file_and_flipped_bit(sample: bytes, tmp_path: Path) -> None:
    data = bytearray(sample)
    data[120] |= 1  # "not cleanly closed"
    data[chunk_at(2) + 5000] ^= 0x01  # inside a record: the chunk checksum no longer holds
    records, quarantined = run(tmp_path, bytes(data))
    assert len(records) + len(covered(quarantined)) >= 565
    flagged = [r for r in records if r.meta.get("integrity")]
    assert flagged and all(88 <= number(r) <= 124 for r in flagged)


def test_link_cycle_in_a_real_chunk(sample: bytes, tmp_path: Path) -> None:
    data = bytearray(sample)
    base = chunk_at(5)
    struct.pack_into("<I", data, base + 128, 40_000)  # string table entry 0 -> 40000
    struct.pack_into("<I", data, base + 40_000, 41_000)
    struct.pack_into("<I", data, base + 41_000, 40_000)
    records, quarantined = run(tmp_path, bytes(data))
    assert len(quarantined) == 1 and "link cycle" in quarantined[0].reason
    assert {number(r) for r in records} | covered(quarantined) == set(range(1, 566))


def test_isolated_and_in_process_agree(sample: bytes, tmp_path: Path) -> None:
    data = bytearray(sample)
    data[chunk_at(2) + 5000 : chunk_at(2) + 5100] = b"\xff" * 100
    isolated = run(tmp_path, bytes(data), isolate="always")
    local = run(tmp_path, bytes(data), isolate="never")
    assert [(r.position, r.meta, r.text) for r in isolated[0]] == [
        (r.position, r.meta, r.text) for r in local[0]
    ]
    assert [q.reason for q in isolated[1]] == [q.reason for q in local[1]]


# ----------------------------------------------------------------------------- chunk headers


def hide_chunk(data: bytearray, index: int, recompute: bool) -> None:
    """The 24-byte edit: first/last record id and free-space offset set to 0."""
    base = chunk_at(index)
    struct.pack_into("<QQ", data, base + 24, 0, 0)
    struct.pack_into("<I", data, base + 48, 0)
    if recompute:
        crc = zlib.crc32(
            bytes(data[base + 128 : base + 512]), zlib.crc32(bytes(data[base : base + 120]))
        )
        struct.pack_into("<I", data, base + 124, crc)


@pytest.mark.parametrize("isolate", ["auto", "always", "never"])
@pytest.mark.parametrize("recompute", [False, True])
def test_zeroed_chunk_header_cannot_hide_records(
    sample: bytes, tmp_path: Path, isolate: str, recompute: bool
) -> None:
    data = bytearray(sample)
    for index in (0, 7, 14):
        hide_chunk(data, index, recompute)
    records, quarantined = run(tmp_path, bytes(data), isolate=isolate)
    assert not quarantined
    assert [number(r) for r in records] == list(range(1, 566))
    flagged = {
        number(r) for r in records if "chunk header disagrees" in r.meta.get("integrity", "")
    }
    assert len(flagged) > 3 * 20 and 1 in flagged and 565 in flagged
    original, _ = run(tmp_path, sample)
    assert [r.text for r in records] == [r.text for r in original]


def test_lowered_last_record_id_cannot_hide_the_rest(sample: bytes, tmp_path: Path) -> None:
    data = bytearray(sample)
    base = chunk_at(3)
    first = struct.unpack_from("<Q", data, base + 24)[0]
    struct.pack_into("<QQ", data, base + 16, first, first)  # last record number and id
    struct.pack_into("<Q", data, base + 32, first)
    records, quarantined = run(tmp_path, bytes(data), isolate="always")
    assert not quarantined and len(records) == 565


def test_hidden_records_the_parser_cannot_read_are_quarantined_with_their_range(
    sample: bytes, tmp_path: Path
) -> None:
    data = bytearray(sample)
    hide_chunk(data, 2, recompute=True)
    base = chunk_at(2)
    data[base + 5000 : base + 5100] = b"\xff" * 100  # and one record smashed
    records, quarantined = run(tmp_path, bytes(data))
    assert [q.position for q in quarantined] == [89]
    assert {number(r) for r in records} | covered(quarantined) == set(range(1, 566))


def test_stale_records_in_slack_space_are_not_read(corpus: Path, tmp_path: Path) -> None:
    """Every corpus file: exactly the bare parser's records, nothing quarantined, although
    some chunks hold old records of a cleared log after their free-space offset."""
    files = sorted((corpus / "evtx-attack-samples").rglob("*.evtx"))
    assert len(files) > 200
    for path in files:
        items = list(read_evtx(path))
        assert not [i for i in items if isinstance(i, Quarantined)], path
        bare = list(PyEvtxParser(str(path), number_of_threads=1).records_json())
        assert [i.text for i in items if isinstance(i, RawRecord)] == [b["data"] for b in bare]
