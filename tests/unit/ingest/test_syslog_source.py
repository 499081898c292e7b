"""Syslog source: the three header shapes, year inference, sniffing, quarantine."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from garrison.core.errors import RecordError
from garrison.core.events import Quarantined, RawRecord
from garrison.ingest.syslog import SyslogSource, _YearTracker, parse_line, split_structured_data


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


def read(tmp_path: Path, data: bytes, mtime: datetime) -> list[RawRecord | Quarantined]:
    path = tmp_path / "auth.log"
    path.write_bytes(data)
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return list(SyslogSource().read(path))


def test_year_from_mtime_and_rollover(tmp_path: Path) -> None:
    data = (
        b"Dec 31 23:59:59 h sshd[1]: a\nJan  1 00:00:01 h sshd[1]: b\n"
        b"Dec 31 23:59:58 h sshd[1]: late line\nJan  2 00:00:00 h x: c\n"
    )
    items = read(tmp_path, data, datetime(2024, 1, 5, tzinfo=UTC))
    times = [i.data["time"] for i in items if isinstance(i, RawRecord)]
    assert times == [
        ms(2023, 12, 31, 23, 59, 59),
        ms(2024, 1, 1, 0, 0, 1),
        ms(2023, 12, 31, 23, 59, 58),
        ms(2024, 1, 2),
    ]


def test_year_is_mtime_year_when_month_not_after_mtime() -> None:
    tracker = _YearTracker(datetime(2024, 6, 1, tzinfo=UTC))
    assert tracker.year_for(6) == 2024
    assert _YearTracker(datetime(2024, 6, 1, tzinfo=UTC)).year_for(7) == 2023


def test_three_shapes() -> None:
    years = _YearTracker(datetime(2024, 6, 1, tzinfo=UTC))
    a = parse_line("<38>Jun  3 01:02:03.250 host prog[12]: hello", years)
    assert (
        a["time"],
        a["hostname"],
        a["program"],
        a["pid"],
        a["message"],
        a["facility"],
        a["severity"],
    ) == (ms(2024, 6, 3, 1, 2, 3) + 250, "host", "prog", 12, "hello", 4, 6)
    b = parse_line("2024-06-03T01:02:03+02:00 host prog: hi there", years)
    assert b["time"] == ms(2024, 6, 2, 23, 2, 3) and b["pid"] is None
    c = parse_line('<165>1 2024-06-03T01:02:03Z h app 99 ID47 [x@1 a="b"] msg', years)
    assert (c["program"], c["pid"], c["msgid"], c["structured_data"], c["message"]) == (
        "app",
        99,
        "ID47",
        {"x@1": {"a": "b"}},
        "msg",
    )


def test_line_without_host_or_tag() -> None:
    years = _YearTracker(datetime(2024, 6, 1, tzinfo=UTC))
    no_host = parse_line("Jun  3 01:02:03 sshd[5]: msg", years)
    assert (no_host["hostname"], no_host["program"], no_host["pid"]) == (None, "sshd", 5)
    no_tag = parse_line("Jun  3 01:02:03 host free text here", years)
    assert (no_tag["program"], no_tag["message"]) == (None, "free text here")


@pytest.mark.parametrize(
    "line",
    [
        "hello world",
        "Foo 12 01:02:03 h x: y",
        "Jun 31 01:02:03 h x: y",
        "<192>Jun  3 01:02:03 h x: y",
        "<13>1 notatime h a p m - x",
    ],
)
def test_not_syslog(line: str) -> None:
    with pytest.raises(RecordError):
        parse_line(line, _YearTracker(datetime(2024, 6, 1, tzinfo=UTC)))


def test_structured_data_escapes_and_malformed() -> None:
    assert split_structured_data('[a k="x\\"y\\]z"][b] m') == ({"a": {"k": 'x"y]z'}, "b": {}}, "m")
    assert split_structured_data("- m") == ({}, "m")
    assert split_structured_data('[a k="unterminated') == ({}, '[a k="unterminated')


def test_bad_lines_quarantined_blank_lines_skipped(tmp_path: Path) -> None:
    data = b"Jun  3 01:02:03 h a: ok\n\n   \nnot syslog\nJun  3 01:02:04 h a: \xffbad\n"
    items = read(tmp_path, data, datetime(2024, 6, 5, tzinfo=UTC))
    assert [type(i).__name__ for i in items] == ["RawRecord", "Quarantined", "RawRecord"]
    assert [i.position for i in items] == [1, 4, 5]
    last = items[2]
    assert isinstance(last, RawRecord) and last.meta == {"invalid_utf8": True}
    assert last.data["message"] == "\\xffbad"


def test_sniff() -> None:
    good = b"Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user x from 1.2.3.4\n" * 3
    assert SyslogSource.sniff(good, Path("x"))
    assert not SyslogSource.sniff(b"# Title\n\nSome text, with commas.\n", Path("x"))
    assert not SyslogSource.sniff(b"time,user\n2024-01-01T00:00:00Z,alice\n", Path("x"))
    assert not SyslogSource.sniff(b"2024-01-01T00:00:00Z\thost\tx\n", Path("x"))
