"""JSON lines source: objects only, caps, encodings, sniffing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from garrison.core.events import Quarantined, RawRecord
from garrison.ingest import detect_format
from garrison.ingest.jsonl import MAX_KEYS, JsonLinesSource, check_size, parse_object


def read(tmp_path: Path, data: bytes) -> list[RawRecord | Quarantined]:
    path = tmp_path / "x.jsonl"
    path.write_bytes(data)
    return list(JsonLinesSource().read(path))


def test_objects_blank_lines_and_rejects(tmp_path: Path) -> None:
    data = b'{"a": 1}\n\n[1]\n3\n"s"\nnull\ntrue\n{"b": Infinity}\n{oops\n{"c": 2}\r\n'
    items = read(tmp_path, data)
    got = [(i.position, i.reason if isinstance(i, Quarantined) else i.data) for i in items]
    assert got == [
        (1, {"a": 1}),
        (3, "not a JSON object (an array)"),
        (4, "not a JSON object (a number)"),
        (5, "not a JSON object (a string)"),
        (6, "not a JSON object (null)"),
        (7, "not a JSON object (a boolean)"),
        (8, "not valid JSON: non-standard JSON constant Infinity"),
        (9, got[7][1]),
        (10, {"c": 2}),
    ]
    assert str(got[7][1]).startswith("not valid JSON")


def test_invalid_utf8_line_is_quarantined_with_byte(tmp_path: Path) -> None:
    items = read(tmp_path, b'{"a": "\xc3\x28"}\n{"b": 1}\n')
    assert isinstance(items[0], Quarantined)
    assert items[0].reason == "invalid UTF-8 at byte 8" and items[0].excerpt
    assert isinstance(items[1], RawRecord)


def test_utf16_file(tmp_path: Path) -> None:
    items = read(tmp_path, '{"é": 1}\n{"b": 2}\n'.encode("utf-16"))
    assert [i.data for i in items if isinstance(i, RawRecord)] == [{"é": 1}, {"b": 2}]


def test_depth_and_key_caps() -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(64):
        node["a"] = {}
        node = node["a"]  # type: ignore[assignment]
    with pytest.raises(ValueError, match="deeper than 64"):
        check_size(deep)
    check_size({"a": {"b": 1}})
    with pytest.raises(ValueError, match="more than 10000 keys"):
        check_size({"x": [{str(i): i} for i in range(MAX_KEYS + 1)]})
    with pytest.raises(ValueError, match="deeper than 64"):
        parse_object("[" * 5000 + "]" * 5000)
    with pytest.raises(ValueError, match="deeper than 64"):
        parse_object('{"a":' + "[" * 100 + "]" * 100 + "}")


def test_huge_line_is_quarantined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from garrison.ingest import _text

    monkeypatch.setattr(_text, "MAX_LINE_BYTES", 50)
    monkeypatch.setattr(_text.iter_lines, "__kwdefaults__", {"max_bytes": 50, "invalid": "error"})
    items = read(tmp_path, b'{"a": "' + b"x" * 100 + b'"}\n{"b": 1}\n')
    assert isinstance(items[0], Quarantined) and items[0].reason == "line longer than 50 bytes"
    assert isinstance(items[1], RawRecord) and items[1].position == 2


def test_sniff(tmp_path: Path) -> None:
    assert JsonLinesSource.sniff(b'{"a": 1}\n{"b": 2}\n', Path("x"))
    assert JsonLinesSource.sniff(b'\xef\xbb\xbf{"a": 1}\n', Path("x"))
    assert JsonLinesSource.sniff('{"a": 1}\n'.encode("utf-16"), Path("x"))
    assert not JsonLinesSource.sniff(b'[{"a": 1}]\n', Path("x"))
    assert not JsonLinesSource.sniff(b'{\n  "pretty": true\n}\n', Path("x"))
    long_first = b'{"k": "' + b"x" * 70000
    assert JsonLinesSource.sniff(long_first[:65536], Path("x"))
    path = tmp_path / "data.csv"  # the name says CSV, the content says JSON lines
    path.write_text(json.dumps({"time": 1, "user": "a"}) + "\n")
    cls = detect_format(path)
    assert cls is not None and cls.format == "jsonl"
