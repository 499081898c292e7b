"""Zip bombs against the OTRF/Mordor source, built in the test (zipfile + zlib).

Each mirrors one from the hardening report (issue 18 item 4): a zip of newlines that took
105 s for one record, ~1 KB zips holding 300,000+ tiny events, 200 directory entries over
one member. Every one must end in bounded time with a quarantine entry naming the limit,
and honest archives must not trip any guard.
"""

from __future__ import annotations

import io
import json
import os
import random
import struct
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.core.errors import InputError
from garrison.core.events import Quarantined, RawRecord
from garrison.ingest.mordor import MordorSource
from garrison.ingest.reader import check_source_options
from garrison.ingest.sniff import detect_format

pytestmark = pytest.mark.timeout(120)

EVENT = json.dumps({"EventID": 4624, "Channel": "Security", "Hostname": "WS1"})


def events(count: int) -> str:
    """Lines that compress like real logs (a random id each), not like a bomb."""
    return "\n".join(
        json.dumps({"EventID": 4624, "Channel": "Security", "LogonId": os.urandom(12).hex()})
        for _ in range(count)
    )


@contextmanager
def within(seconds: float) -> Iterator[None]:
    started = time.perf_counter()
    yield
    took = time.perf_counter() - started
    assert took < seconds, f"took {took:.1f} s (bound {seconds} s)"


def streamed_zip(path: Path, name: str, block: bytes, repeat: int, tail: bytes = b"") -> Path:
    """One deflated member of ``block * repeat + tail``, written without holding it."""
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open(name, "w") as out,
    ):
        for _ in range(repeat):
            out.write(block)
        out.write(tail)
    return path


def split(items: list[RawRecord | Quarantined]) -> tuple[list[RawRecord], list[str]]:
    return (
        [i for i in items if isinstance(i, RawRecord)],
        [i.reason for i in items if isinstance(i, Quarantined)],
    )


def read(path: Path, source: MordorSource | None = None) -> list[RawRecord | Quarantined]:
    return list((source or MordorSource()).read(path))


def test_a_zip_of_newlines_is_refused_by_its_ratio(tmp_path: Path) -> None:
    """~270 KB of zip, 128 MB of newlines and one record: was 105 s for one record."""
    path = streamed_zip(tmp_path / "nl.zip", "m.json", b"\n" * (1 << 20), 128, EVENT.encode())
    assert path.stat().st_size < 300_000
    with within(5):
        records, reasons = split(read(path))
    assert records == [] and len(reasons) == 1
    assert "compression ratio" in reasons[0] and "max_ratio 200" in reasons[0]
    assert reasons[0].startswith("member 'm.json': ")


@pytest.mark.parametrize("events", [300_001, 3_500_000])
def test_tiny_zips_of_tiny_events_are_refused(tmp_path: Path, events: int) -> None:
    path = streamed_zip(tmp_path / "e.zip", "m.json", b"{}\n" * 1000, events // 1000, b"{}\n")
    assert path.stat().st_size < 20_000
    with within(5):
        records, reasons = split(read(path))
    assert records == [] and len(reasons) == 1 and "compression ratio" in reasons[0]


def test_many_small_over_compressed_members_add_up(tmp_path: Path) -> None:
    """The ratio floor counts the archive: 100 members of 200 KB of "{}" each."""
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(100):
            zf.writestr(f"m{i:03}.json", b"{}\n" * 70_000)
    with within(20):
        records, reasons = split(read(path))
    assert len(records) <= 2 * 70_000  # what fits under the 256 KiB floor, no more
    assert len(reasons) >= 98 and all("compression ratio" in r for r in reasons)


def overlapping_zip(copies: int) -> bytes:
    """One real member, then ``copies`` central-directory entries all pointing at it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("m.json", "\n".join([EVENT] * 2000))
    data = buf.getvalue()
    eocd = data.rindex(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack_from("<II", data, eocd + 12)
    entry = data[cd_offset : cd_offset + cd_size]
    directory = entry * copies
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, copies, copies, len(directory), cd_offset, 0
    )
    return data[:cd_offset] + directory + end


def test_directory_entries_over_one_member_are_read_once(tmp_path: Path) -> None:
    path = tmp_path / "overlap.zip"
    path.write_bytes(overlapping_zip(200))
    with within(10):
        records, reasons = split(read(path))
    assert len(records) == 2000  # the member, once
    assert len(reasons) == 199 and all("overlaps member 'm.json'" in r for r in reasons)
    assert all("zip-bomb guard" in r for r in reasons)


def test_blank_lines_count_against_max_lines(tmp_path: Path) -> None:
    source = MordorSource()
    source.max_lines = 100_000
    path = tmp_path / "blank.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:  # ratio 1: only lines count
        zf.writestr("a.json", EVENT + "\n" + "\n" * 1_000_000 + EVENT)
        zf.writestr("b.json", EVENT)
    with within(5):
        records, reasons = split(read(path, source))
    assert [r.position for r in records] == [1]
    assert len(reasons) == 2
    assert "max_lines (100000 lines, blank ones included" in reasons[0]
    assert reasons[1].startswith("1 members not read: the archive reached max_lines")


def test_records_per_member(tmp_path: Path) -> None:
    source = MordorSource()
    source.max_records = 1_000
    path = tmp_path / "r.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.json", events(5_000))
        zf.writestr("b.json", events(10))
    records, reasons = split(read(path, source))
    assert len(records) == 1_010  # the limit is per member
    assert len(reasons) == 1 and "stopped after 1000 records (max_records" in reasons[0]
    assert records[-1].meta["member"] == "b.json"


def test_total_uncompressed_bytes_per_archive(tmp_path: Path) -> None:
    source = MordorSource()
    source.max_total_bytes = 150_000
    path = tmp_path / "t.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(4):
            zf.writestr(f"m{i}.json", events(1_000))  # ~80 KB each
    records, reasons = split(read(path, source))
    assert 1_000 <= len(records) < 3_000
    assert "max_total_bytes (150000 uncompressed bytes" in reasons[0]
    assert reasons[1].startswith("1 members not read") or reasons[1].startswith(
        "2 members not read"
    )


def test_a_bomb_without_a_directory_is_stopped_by_what_it_consumes(tmp_path: Path) -> None:
    """Central directory cut off: the member is streamed and its real ratio watched."""
    full = streamed_zip(tmp_path / "full.zip", "m.json", b"{}\n" * 1000, 3_000).read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(full[: full.rindex(b"PK\x01\x02")])
    with within(5):
        records, reasons = split(read(cut))
    assert len(records) <= 350_000  # one 1 MiB block at most before the check
    assert any("compression ratio" in r for r in reasons)
    assert "zip damaged" in reasons[-1]


def test_honest_archives_trip_nothing(tmp_path: Path) -> None:
    lines = [
        json.dumps({"EventID": i % 50, "Channel": "Security", "Message": f"event {i} " * (i % 7)})
        for i in range(20_000)
    ]
    path = tmp_path / "honest.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.json", "\n".join(lines[:10_000]))
        zf.writestr("b/c.json", "\n\n".join(lines[10_000:]))
    records, reasons = split(read(path))
    assert reasons == [] and len(records) == 20_000


def test_limits_are_settings(tmp_path: Path) -> None:
    check_source_options({"mordor": {"max_ratio": 50, "max_lines": 10, "ratio_floor": 1}})
    with pytest.raises(InputError, match="max_ratio: expected float"):
        check_source_options({"mordor": {"max_ratio": "high"}})
    with pytest.raises(InputError, match="max_records: expected int"):
        check_source_options({"mordor": {"max_records": 1.5}})


def test_a_readme_first_does_not_hide_the_captures(tmp_path: Path) -> None:
    """Item 13: every member is read; the ones that are not JSON lines are quarantined."""
    path = tmp_path / "capture.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("README.txt", "This dataset was recorded on ...\nSee the wiki.\n")
        zf.writestr("tool.exe", b"MZ\x90\x00" + bytes(300))
        zf.writestr("capture.json", "\n".join([EVENT] * 3))
    cls = detect_format(path)
    assert cls is MordorSource
    records, reasons = split(read(path))
    assert len(records) == 3 and records[0].meta["member"] == "capture.json"
    assert len(reasons) == 2
    assert "'README.txt' is not JSON lines" in reasons[0]
    assert "'tool.exe' is not JSON lines: binary content" in reasons[1]


# ----------------------------------------------------------------------------- property

SHAPES = ("objects", "blank", "tiny", "text", "overlap")


def random_archive(rng: random.Random) -> tuple[bytes, dict[str, list[bytes]]]:
    """An archive of random member shapes and the lines each member holds."""
    buf = io.BytesIO()
    held: dict[str, list[bytes]] = {}
    overlap = 0
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(rng.randint(1, 4)):
            shape = rng.choice(SHAPES)
            if shape == "objects":
                lines = [json.dumps({"EventID": rng.randrange(9), "n": i}).encode()] * (
                    rng.randrange(1, 3_000)
                )
            elif shape == "blank":
                lines = [b""] * rng.randrange(1, 100_000) + [b'{"EventID": 1}']
            elif shape == "tiny":
                lines = [b"{}"] * rng.randrange(1, 50_000)
            elif shape == "text":
                lines = [b"plain text, not JSON"] * rng.randrange(1, 50)
            else:
                overlap += 1
                continue
            method = rng.choice([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
            zf.writestr(zipfile.ZipInfo(f"m{i}.json"), b"\n".join(lines), compress_type=method)
            held[f"m{i}.json"] = lines
    data = buf.getvalue()
    if overlap and held:  # repeat the first directory entry: more entries over its member
        eocd = data.rindex(b"PK\x05\x06")
        count, cd_size, cd_offset = struct.unpack_from("<HII", data, eocd + 10)
        first = data[cd_offset : cd_offset + 46 + struct.unpack_from("<H", data, cd_offset + 28)[0]]
        directory = data[cd_offset : cd_offset + cd_size] + first * overlap
        end = struct.pack(
            "<4sHHHHIIH",
            b"PK\x05\x06",
            0,
            0,
            count + overlap,
            count + overlap,
            len(directory),
            cd_offset,
            0,
        )
        data = data[:cd_offset] + directory + end
    return data, held


@settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(min_value=0, max_value=2**64 - 1))
def test_hostile_archives_end_quickly_and_lose_nothing_silently(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    data, held = random_archive(rng)
    path = tmp_path / "bomb.zip"
    path.write_bytes(data)
    source = MordorSource()
    source.max_lines = rng.choice([1_000, 50_000, 10_000_000])
    source.max_records = rng.choice([100, 10_000, 5_000_000])
    source.ratio_floor = rng.choice([4_096, 256 << 10])
    with within(10):
        items = read(path, source)
    records = [i for i in items if isinstance(i, RawRecord)]
    quarantined = [i for i in items if isinstance(i, Quarantined)]
    assert all(q.reason and q.source_format == "mordor" for q in quarantined)
    positions = [r.position for r in records]
    assert positions == sorted(set(positions))
    for record in records:  # each record is one of its member's lines
        member = held[record.meta["member"]]
        assert json.dumps(record.data).encode() in member or record.data == {}
    assert len(records) <= source.max_lines
    objects = sum(1 for lines in held.values() for line in lines if line.startswith(b"{"))
    if len(records) < objects:  # fewer read than held: some entry must say why
        assert quarantined
