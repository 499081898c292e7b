"""Zeek source: sniffing, header blocks, typed cells, escapes, labels, bad rows."""

from __future__ import annotations

import json
from pathlib import Path

from garrison.core.events import Quarantined, RawRecord
from garrison.ingest import detect_format
from garrison.ingest.zeek import ZeekSource, infer_zeek_path

HEAD = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
    "#path\t{path}\n#fields\t{fields}\n#types\t{types}\n"
)


def tsv(path: str, fields: list[str], types: list[str], rows: list[list[str]]) -> str:
    head = HEAD.format(path=path, fields="\t".join(fields), types="\t".join(types))
    return head + "".join("\t".join(r) + "\n" for r in rows)


def read(tmp_path: Path, text: str | bytes) -> list[RawRecord | Quarantined]:
    path = tmp_path / "log"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return list(ZeekSource().read(path))


def test_sniff_tsv_and_json_not_generic_json() -> None:
    assert ZeekSource.sniff(b"#separator \\x09\n#fields\tts\n", Path("x"))
    line = json.dumps({"ts": 1.0, "uid": "C1", "id.orig_h": "1.2.3.4"}).encode()
    assert ZeekSource.sniff(line + b"\n", Path("x"))
    assert not ZeekSource.sniff(b'{"time": 1, "user": "x"}\n', Path("x"))
    assert not ZeekSource.sniff(b"#fields\tts\n1\n", Path("x"))


def test_detect_format_prefers_zeek_json_over_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "conn.json.txt"
    path.write_text(json.dumps({"ts": 1.5, "uid": "C", "id.orig_h": "10.0.0.1"}) + "\n")
    cls = detect_format(path)
    assert cls is not None and cls.format == "zeek"


def test_types_unset_empty_sets_and_escapes(tmp_path: Path) -> None:
    text = tsv(
        "conn",
        ["ts", "uid", "n", "ok", "s", "v", "q", "dash"],
        ["time", "string", "count", "bool", "set[string]", "vector[count]", "string", "string"],
        [["1.5", "C1", "-", "T", "a\\x2cb,c", "(empty)", "x\\x09y\\x01z", "\\x2d"]],
    )
    [rec] = read(tmp_path, text)
    assert isinstance(rec, RawRecord)
    assert rec.data == {
        "ts": 1.5,
        "uid": "C1",
        "ok": True,
        "s": ["a,b", "c"],
        "v": [],
        "q": "x\ty\\x01z",
        "dash": "-",
    }
    assert rec.meta["path"] == "conn" and rec.position == 8


def test_wrong_column_count_and_bad_cells_are_quarantined(tmp_path: Path) -> None:
    text = tsv(
        "conn",
        ["ts", "n", "b"],
        ["time", "count", "bool"],
        [["1", "2"], ["1", "x", "T"], ["1", "2", "maybe"], ["nan", "1", "T"], ["1", "2", "F"]],
    )
    items = read(tmp_path, text)
    reasons = [i.reason for i in items if isinstance(i, Quarantined)]
    assert reasons == [
        "expected 3 columns (#fields), got 2",
        "field 'n': 'x' is not a count",
        "field 'b': 'maybe' is not a bool (T/F)",
        "field 'ts': 'nan' is not a finite number",
    ]
    assert [i.position for i in items] == [8, 9, 10, 11, 12]
    assert isinstance(items[-1], RawRecord)


def test_rotated_blocks_and_close_lines(tmp_path: Path) -> None:
    one = tsv("conn", ["ts", "a"], ["time", "count"], [["1", "5"]]) + "#close\t2024\n"
    two = tsv("dns", ["ts", "query", "b"], ["time", "string", "count"], [["2", "x.org", "7"]])
    items = read(tmp_path, one + "\n" + two)
    assert [(i.meta["path"], i.data) for i in items if isinstance(i, RawRecord)] == [
        ("conn", {"ts": 1.0, "a": 5}),
        ("dns", {"ts": 2.0, "query": "x.org", "b": 7}),
    ]


def test_row_before_header_is_quarantined(tmp_path: Path) -> None:
    items = read(tmp_path, b"#separator \\x09\n1\t2\n")
    assert isinstance(items[0], Quarantined)
    assert items[0].reason == "data row before any #fields header"


def test_labels_are_moved_out_of_data(tmp_path: Path) -> None:
    text = tsv(
        "conn",
        ["ts", "uid", "label", "detailedlabel"],
        ["time", "string", "string", "string"],
        [["1", "C", "Malicious", "C&C"]],
    )
    [rec] = read(tmp_path, text)
    assert isinstance(rec, RawRecord)
    assert "label" not in rec.data and "detailedlabel" not in rec.data
    assert rec.meta["labels"] == {"label": "Malicious", "detailedlabel": "C&C"}
    assert "Malicious" in rec.text  # the raw line is kept verbatim


def test_json_lines_flatten_nested_id_and_path(tmp_path: Path) -> None:
    lines = [
        {"_path": "http", "ts": 1, "uid": "C", "id": {"orig_h": "1.1.1.1", "orig_p": 5}},
        {"ts": 2, "uid": "D", "query": "a.b", "rcode": 0, "label": "Benign"},
    ]
    text = "\n".join(json.dumps(x) for x in lines) + "\n\n[1]\n"
    items = read(tmp_path, text)
    assert isinstance(items[0], RawRecord) and isinstance(items[1], RawRecord)
    assert items[0].data == {"ts": 1, "uid": "C", "id.orig_h": "1.1.1.1", "id.orig_p": 5}
    assert items[0].meta["path"] == "http"
    assert items[1].meta == {"path": "dns", "writer": "json", "labels": {"label": "Benign"}}
    assert isinstance(items[2], Quarantined) and items[2].position == 4


def test_infer_zeek_path() -> None:
    assert infer_zeek_path({"ts", "uid", "conn_state"}) == "conn"
    assert infer_zeek_path({"ts", "method", "uri", "call_id"}) == "sip"
    assert infer_zeek_path({"ts", "server_name"}) == "ssl"
    assert infer_zeek_path({"ts", "auth_attempts"}) == "ssh"
    assert infer_zeek_path({"ts", "zzz"}) == "unknown"
