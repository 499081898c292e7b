"""The Mordor/OTRF zip source on zips built in the test (no corpus needed)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from garrison.core.events import Quarantined, RawRecord
from garrison.ingest.mordor import CLOCK_OFFSET_META, MordorSource
from garrison.ingest.sniff import detect_format
from garrison.normalize.mordor import normalize_mordor

SYSMON = "Microsoft-Windows-Sysmon/Operational"


def line(event_id: int = 4624, **extra: Any) -> str:
    return json.dumps(
        {
            "EventID": event_id,
            "Channel": "Security",
            "Hostname": "WS1",
            "TimeCreated": "2021-03-02 11:40:12.250",
            **extra,
        }
    )


def make_zip(
    path: Path, members: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED
) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, content in members.items():
            zf.writestr(name, content.encode() if isinstance(content, str) else content)
    return path


def read(path: Path, source: MordorSource | None = None) -> list[RawRecord | Quarantined]:
    return list((source or MordorSource()).read(path))


def test_sniff_by_content(tmp_path: Path) -> None:
    good = make_zip(tmp_path / "a.bin", {"x.json": line() + "\n"})
    stored = make_zip(tmp_path / "b.bin", {"x.json": "\n" + line()}, zipfile.ZIP_STORED)
    binary = make_zip(tmp_path / "c.zip", {"tool.exe": b"MZ\x90\x00" + bytes(500)})
    text = make_zip(tmp_path / "d.zip", {"notes.txt": "hello world\n"})
    for path in (good, stored):
        cls = detect_format(path)
        assert cls is not None and cls.format == "mordor"
    assert not MordorSource.sniff(binary.read_bytes()[:65536], binary)
    assert not MordorSource.sniff(text.read_bytes()[:65536], text)
    assert not MordorSource.sniff(b"PK\x03\x04", tmp_path)
    assert not MordorSource.sniff(b'{"EventID": 1}', tmp_path)


def test_positions_blank_lines_and_members(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "c.zip",
        {
            "one.json": f"{line(1)}\n\n{line(2)}\r\n   \n{line(3)}",
            "two.json": f"{line(4)}\n{line(5)}\n",
        },
    )
    items = read(path)
    assert all(isinstance(i, RawRecord) for i in items)
    assert [i.position for i in items] == [1, 3, 5, 6, 7]  # blank lines keep their numbers
    assert [i.data["EventID"] for i in items] == [1, 2, 3, 4, 5]  # type: ignore[union-attr]
    assert [i.meta["member"] for i in items] == ["one.json"] * 3 + ["two.json"] * 2
    assert items[1].text == line(2)


def test_bad_lines_are_quarantined_with_their_line_number(tmp_path: Path) -> None:
    content = (
        (line(1) + "\n" + "{not json\n" + "[1, 2]\n" + '"text"\n').encode()
        + b'{"EventID": 5, "x": "\xff\xfe"}\n'
        + (line(6) + "\n").encode()
    )
    items = read(make_zip(tmp_path / "c.zip", {"m.json": content}))
    kinds = [(type(i).__name__, i.position) for i in items]
    assert kinds == [
        ("RawRecord", 1),
        ("Quarantined", 2),
        ("Quarantined", 3),
        ("Quarantined", 4),
        ("Quarantined", 5),
        ("RawRecord", 6),
    ]
    reasons = [i.reason for i in items if isinstance(i, Quarantined)]
    assert reasons[0].startswith("not JSON")
    assert "not a JSON object (list)" in reasons[1]
    assert "not a JSON object (str)" in reasons[2]
    assert "not UTF-8" in reasons[3]


def test_binary_member_is_one_entry(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "c.zip", {"a.json": line() + "\n", "b.exe": b"MZ" + bytes(range(256)) * 200}
    )
    items = read(path)
    assert isinstance(items[0], RawRecord)
    assert len(items) == 2 and isinstance(items[1], Quarantined)
    assert "'b.exe' is not JSON lines: binary content" in items[1].reason


def test_text_member_is_one_entry(tmp_path: Path) -> None:
    items = read(make_zip(tmp_path / "c.zip", {"readme.txt": "line one\nline two\n" * 50}))
    assert len(items) == 1 and isinstance(items[0], Quarantined)
    assert "not JSON lines" in items[0].reason


def test_member_byte_cap(tmp_path: Path) -> None:
    body = "".join(line(i) + "\n" for i in range(2000))
    source = MordorSource()
    source.max_member_bytes = 20_000
    items = read(make_zip(tmp_path / "c.zip", {"m.json": body}), source)
    assert isinstance(items[-1], Quarantined)
    assert "stopped after 20000 uncompressed bytes (zip-bomb guard)" in items[-1].reason
    assert all(isinstance(i, RawRecord) for i in items[:-1])


def test_member_count_cap(tmp_path: Path) -> None:
    source = MordorSource()
    source.max_members = 2
    items = read(make_zip(tmp_path / "c.zip", {f"m{i}.json": line(i) for i in range(5)}), source)
    assert [i.position for i in items[:2]] == [1, 2]
    assert isinstance(items[2], Quarantined) and "3 members beyond the first 2" in items[2].reason


def test_over_long_line(tmp_path: Path) -> None:
    source = MordorSource()
    source.max_line_bytes = 5_000
    source.max_ratio = 1e6  # 3 MB of "x" deflates ~1000:1: the ratio guard would refuse it
    huge = json.dumps({"EventID": 1, "pad": "x" * 3_000_000})
    items = read(
        make_zip(tmp_path / "c.zip", {"m.json": f"{line(1)}\n{huge}\n{line(3)}\n"}), source
    )
    assert [(type(i).__name__, i.position) for i in items] == [
        ("RawRecord", 1),
        ("Quarantined", 2),
        ("RawRecord", 3),
    ]
    assert "longer than 5000 bytes" in items[1].reason  # type: ignore[union-attr]


def test_truncated_zip_is_salvaged(tmp_path: Path) -> None:
    body = "".join(line(i) + "\n" for i in range(3000))
    full = make_zip(tmp_path / "full.zip", {"m.json": body}).read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(full[: len(full) // 2])
    items = read(cut)
    records = [i for i in items if isinstance(i, RawRecord)]
    assert len(records) > 100
    assert [r.position for r in records] == list(range(1, len(records) + 1))
    assert isinstance(items[-1], Quarantined) and "zip damaged" in items[-1].reason
    assert sum(isinstance(i, Quarantined) for i in items) <= 2


def test_corrupt_member_data(tmp_path: Path) -> None:
    body = "".join(line(i) + "\n" for i in range(500))
    raw = bytearray(make_zip(tmp_path / "ok.zip", {"m.json": body}).read_bytes())
    raw[200:260] = bytes(60)  # inside the deflate stream
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(raw))
    items = read(bad)
    assert items and isinstance(items[-1], Quarantined)
    assert "unreadable" in items[-1].reason


def test_garbage_file(tmp_path: Path) -> None:
    path = tmp_path / "g.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 20)
    items = read(path)
    assert len(items) == 1 and isinstance(items[0], Quarantined)
    assert items[0].reason.startswith("not a readable zip")


def test_clock_offset_learnt_from_sysmon(tmp_path: Path) -> None:
    lines = []
    for i in range(5):  # TimeCreated is local (UTC-4) on a 12-hour clock: 00:29 -> "12:29"
        lines.append(
            json.dumps(
                {
                    "EventID": 13,
                    "Channel": SYSMON,
                    "Hostname": "LAB-WS09",
                    "SourceName": "Microsoft-Windows-Sysmon",
                    "TimeCreated": f"2020-10-19 12:29:0{i}.013",
                    "UtcTime": f"2020-10-19 04:29:0{i}.004",
                }
            )
        )
    lines.append(line(4688, TimeCreated="2020-10-19 12:28:31.089"))
    items = read(make_zip(tmp_path / "c.zip", {"m.json": "\n".join(lines)}))
    assert all(i.meta[CLOCK_OFFSET_META] == -8 * 3600 * 1000 for i in items)  # type: ignore[union-attr]
    security = normalize_mordor(items[-1])  # type: ignore[arg-type]
    assert security.fields["TimeCreated"] == "2020-10-19T04:28:31.089Z"


def test_no_clock_offset_without_agreement(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {
                "EventID": 1,
                "Channel": SYSMON,
                "TimeCreated": t,
                "UtcTime": "2020-10-19 04:29:00.000",
            }
        )
        for t in ("2020-10-19 12:29:00", "2020-10-19 08:29:00", "2020-10-19 01:29:00")
    ]
    items = read(make_zip(tmp_path / "c.zip", {"m.json": "\n".join(lines)}))
    assert all(CLOCK_OFFSET_META not in i.meta for i in items)  # type: ignore[union-attr]


def test_read_from_memory_zip_written_to_disk(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("dir/", "")
        zf.writestr("dir/a.jsonl", line(1))
    path = tmp_path / "m.zip"
    path.write_bytes(buf.getvalue())
    items = read(path)
    assert len(items) == 1 and isinstance(items[0], RawRecord)
    assert items[0].meta["member"] == "dir/a.jsonl"


@pytest.mark.parametrize("content", [b"", b"\n\n\n"])
def test_empty_members(tmp_path: Path, content: bytes) -> None:
    assert read(make_zip(tmp_path / "c.zip", {"m.json": content})) == []


def test_zip_of_other_json_logs_is_not_lost(tmp_path: Path) -> None:
    """Lines without EventID/winlog/Event go to the generic JSON-lines normalizer."""
    lines = [
        json.dumps({"ts": 1700000000.5, "id.orig_h": "10.0.0.1", "query": "a.example"}),
        line(4624),
    ]
    items = read(make_zip(tmp_path / "c.zip", {"m.json": "\n".join(lines)}))
    other = normalize_mordor(items[0])  # type: ignore[arg-type]
    assert other.time == 1700000000500 and other.fields["query"] == "a.example"
    windows = normalize_mordor(items[1])  # type: ignore[arg-type]
    assert windows.fields["Channel"] == "Security" and windows.fields["EventID"] == 4624
