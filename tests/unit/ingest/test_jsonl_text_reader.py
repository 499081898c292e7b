"""The shared line reader (garrison.ingest._text): numbering, encodings, caps, bad bytes."""

from __future__ import annotations

from pathlib import Path

from garrison.ingest import _text
from garrison.ingest._text import head_lines, iter_lines, scrub_surrogates


def lines_of(tmp_path: Path, data: bytes, **kw: object) -> list[_text.Line]:
    path = tmp_path / "f"
    path.write_bytes(data)
    return list(iter_lines(path, **kw))  # type: ignore[arg-type]


def test_numbering_crlf_blank_and_no_trailing_newline(tmp_path: Path) -> None:
    got = lines_of(tmp_path, b"a\r\n\r\nb\rc\nlast")
    assert [(ln.number, ln.text) for ln in got] == [(1, "a"), (2, ""), (3, "b\rc"), (4, "last")]


def test_unicode_line_separators_do_not_split(tmp_path: Path) -> None:
    got = lines_of(tmp_path, "x\u2028y\x0bz\n".encode())
    assert [ln.text for ln in got] == ["x\u2028y\x0bz"]


def test_utf8_bom_is_removed(tmp_path: Path) -> None:
    assert lines_of(tmp_path, b"\xef\xbb\xbf{}\n")[0].text == "{}"


def test_utf16_le_and_be_with_bom(tmp_path: Path) -> None:
    for codec in ("utf-16-le", "utf-16-be"):
        bom = b"\xff\xfe" if codec.endswith("le") else b"\xfe\xff"
        got = lines_of(tmp_path, bom + "é1\r\n\r\nz2".encode(codec))
        assert [(ln.number, ln.text) for ln in got] == [(1, "é1"), (2, ""), (3, "z2")]


def test_invalid_utf8_error_or_escape(tmp_path: Path) -> None:
    bad = lines_of(tmp_path, b"ok\nab\xffc\n", invalid="error")
    assert bad[0].text == "ok"
    assert bad[1].text is None and bad[1].error == "invalid UTF-8 at byte 3"
    esc = lines_of(tmp_path, b"ab\xffc\n", invalid="escape")
    assert esc[0].text == "ab\\xffc" and esc[0].replaced


def test_encoded_surrogates_are_invalid_utf8(tmp_path: Path) -> None:
    got = lines_of(tmp_path, b"\xed\xa0\x80\n", invalid="escape")
    assert got[0].text is not None
    got[0].text.encode("utf-8")  # storable


def test_long_line_is_capped_and_reading_continues(tmp_path: Path) -> None:
    data = b"short\n" + b"x" * 5000 + b"\nafter\n"
    got = lines_of(tmp_path, data, max_bytes=1000)
    assert [ln.number for ln in got] == [1, 2, 3]
    assert got[1].text is None and got[1].error == "line longer than 1000 bytes"
    assert got[1].excerpt.startswith("xxx")
    assert got[2].text == "after"


def test_long_line_across_blocks(tmp_path: Path, monkeypatch: object) -> None:
    monkeypatch.setattr(_text, "_BLOCK", 7)  # type: ignore[attr-defined]
    data = b"abc\n" + b"y" * 40 + b"\nlast-line-here\n" + b"z" * 30
    got = lines_of(tmp_path, data, max_bytes=20)
    assert [(ln.number, ln.text, ln.error is not None) for ln in got] == [
        (1, "abc", False),
        (2, None, True),
        (3, "last-line-here", False),
        (4, None, True),
    ]


def test_exactly_the_cap_is_allowed(tmp_path: Path) -> None:
    got = lines_of(tmp_path, b"x" * 100 + b"\n", max_bytes=100)
    assert got[0].text == "x" * 100


def test_head_lines_drops_partial_last_line() -> None:
    head = b"one\n\ntwo\nthr"
    assert head_lines(head) == ["one", "two", "thr"]  # shorter than the window: whole file
    big = b"a\n" * 40000
    assert head_lines(big[:65536], 3) == ["a", "a", "a"]


def test_scrub_surrogates_makes_text_storable() -> None:
    obj = {"k": "\ud800x", "n": [{"\udfff": 1}]}
    clean = scrub_surrogates(obj, '"\\ud800x" "\\udfff"')
    assert clean == {"k": "\\ud800x", "n": [{"\\udfff": 1}]}
    same = {"k": "v"}
    assert scrub_surrogates(same, '{"k": "v"}') is same
