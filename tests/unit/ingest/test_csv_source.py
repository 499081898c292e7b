"""CSV source: strict sniffing, rows keyed by header, positions, quoting, labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.core.events import Quarantined, RawRecord
from garrison.ingest import detect_format
from garrison.ingest.csvfile import CsvSource, header_names, plausible_header, sniff_delimiter


def read(tmp_path: Path, data: bytes) -> list[RawRecord | Quarantined]:
    path = tmp_path / "x"
    path.write_bytes(data)
    return list(CsvSource().read(path))


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(delimiter: str) -> None:
    lines = [delimiter.join(["time", "user", "src"]), delimiter.join(["1", "a", "b"])]
    assert sniff_delimiter(lines) == delimiter


@pytest.mark.parametrize(
    "head",
    [
        b"# Garrison\n\nA sentence, with a comma, and more.\nAnother line, here.\n",
        b"| folder | what |\n|---|---|\n| a | b |\n",
        b"Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user x from 1.2.3.4\n" * 3,
        b'{"a": 1, "b": 2}\n{"a": 3, "b": 4}\n',
        b"GNU GENERAL PUBLIC LICENSE\nVersion 2, June 1991\n",
        b"1,2,3\n4,5,6\n",
        b"only,header\n",
        b"Hello, world\nHi, there, you\n",
    ],
)
def test_not_csv(head: bytes) -> None:
    assert not CsvSource.sniff(head, Path("x"))


def test_markdown_readme_is_not_any_format(tmp_path: Path) -> None:
    path = tmp_path / "README.csv"
    path.write_text(
        "# 001-scenario\n\n- Source: https://x.example/a,b\n- Notes: first 1,000 "
        "lines\n\n## Labels\n\n-  739 Background\n-  244 Malicious\n"
    )
    assert detect_format(path) is None


def test_header_rules() -> None:
    assert plausible_header(["", "id", "tstamp"])  # pandas index column
    assert not plausible_header(["id", "", "x"])
    assert not plausible_header(["a very long column name with words", "b"])
    assert header_names(["", "a", "a", " b "]) == ["_index", "a", "a_2", "b"]


def test_rows_positions_quotes_and_labels(tmp_path: Path) -> None:
    data = (
        b'time,user,note,label\n1,alice,"multi\nline",bad\n\n2,bob,"x ""q""",\n'
        b'3,carol\n4,dave,"open,\n5,eve,after,\n'
    )
    items = read(tmp_path, data)
    got = [(i.position, i.reason if isinstance(i, Quarantined) else i.data) for i in items]
    assert got == [
        (2, {"time": "1", "user": "alice", "note": "multi\nline"}),
        (5, {"time": "2", "user": "bob", "note": 'x "q"'}),
        (6, "expected 4 cells (header), got 2"),
        (7, "unterminated quoted cell"),
        (8, {"time": "5", "user": "eve", "note": "after"}),
    ]
    first = items[0]
    assert isinstance(first, RawRecord) and first.meta["labels"] == {"label": "bad"}


def test_invalid_utf8_kept_escaped(tmp_path: Path) -> None:
    items = read(tmp_path, b"a,b\nx\xff,y\n")
    assert isinstance(items[0], RawRecord)
    assert items[0].data == {"a": "x\\xff", "b": "y"} and items[0].meta["invalid_utf8"]


def test_bad_header_quarantines_every_row(tmp_path: Path) -> None:
    items = read(tmp_path, b"!!,??\n1,2\n\n3,4\n")
    assert [(i.position, i.reason) for i in items if isinstance(i, Quarantined)] == [
        (1, "first row is not a CSV header"),
        (2, "row of a CSV file without a header"),
        (4, "row of a CSV file without a header"),
    ]
