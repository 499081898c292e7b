"""The fast paths of the line sources give exactly what the reference paths give.

``parse_object`` reads most lines with orjson and falls back to ``json``; the Zeek TSV row
loop converts unsigned numbers and plain text inline instead of calling the column's
converter. Both are speed-ups only: these properties pin them to the reference result.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from garrison.ingest import jsonl
from garrison.ingest._text import scrub_surrogates
from garrison.ingest.zeek import ZeekSource, _Header, _kind_of

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),  # beyond 64 bits too
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
_objects = st.dictionaries(st.text(max_size=10), _values, max_size=8)


def _reference(text: str) -> Any:
    """What ``json`` alone makes of a line (the behaviour before the fast path)."""
    obj = json.loads(text)
    jsonl.check_size(obj)
    return scrub_surrogates(obj, text)


def _same(a: Any, b: Any) -> bool:
    """Equal, with the types too (1 and 1.0 and True are different values in a log)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


@settings(max_examples=800, deadline=None)
@given(_objects, st.booleans())
def test_parse_object_matches_json(obj: dict[str, Any], ascii_only: bool) -> None:
    text = json.dumps(obj, ensure_ascii=ascii_only)
    assert _same(jsonl.parse_object(text), _reference(text))


@pytest.mark.parametrize(
    "text",
    [
        '{"id": 123456789012345678901234567890}',  # > 64 bits: exact int, not a float
        '{"id": -9223372036854775809}',
        '{"k": 18446744073709551615}',
        '{"a": 1e400}',  # json reads infinity; orjson refuses
        '{"s": "\\ud800"}',  # lone surrogate: made literal
        '{"s": "\\ud83d\\ude00"}',  # a pair: an emoji
        '{"a": 1, "a": 2}',
        '{"deep": ' + "[" * 70 + "]" * 70 + "}",
    ],
)
def test_parse_object_edge_cases_match_json(text: str) -> None:
    try:
        expected = _reference(text)
    except ValueError as exc:
        with pytest.raises(ValueError, match="nested deeper"):
            jsonl.parse_object(text)
        assert "nested" in str(exc)
        return
    assert _same(jsonl.parse_object(text), expected)


@pytest.mark.parametrize("text", ['{"a": NaN}', "[1, 2]", '{"a": ', '"x"', "{'a': 1}"])
def test_parse_object_errors_are_json_reasons(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        jsonl.parse_object(text)
    assert caught.value.args[0].startswith(("not valid JSON", "not a JSON object"))


_TYPES = ["count", "port", "int", "string", "addr", "enum", "double", "bool", "set[string]"]


@settings(max_examples=800, deadline=None)
@given(
    st.sampled_from(_TYPES),
    st.one_of(
        st.from_regex(r"\A[0-9]{1,25}\Z"),
        st.sampled_from(["-", "(empty)", "\\x2d", "a\\x09b", "١٢", "+5", " 5", "-3", "T"]),
        st.text(max_size=12),
    ),
)
def test_zeek_inline_cells_match_the_converter(zeek_type: str, cell: str) -> None:
    assume("\t" not in cell)  # the separator splits the row: a different test's concern
    header = _Header()
    for line in ("#fields\tc", f"#types\t{zeek_type}"):
        header = header.apply(line)
    assert header.kinds == [_kind_of(zeek_type)]
    try:
        expected: Any = ("ok", header.converters[0](cell))
    except ValueError as exc:
        expected = ("error", str(exc))
    item = ZeekSource()._tsv_row(Path("x.log"), 1, cell, header)
    if cell == header.unset:
        assert item.data == {}  # type: ignore[union-attr]
    elif expected[0] == "ok":
        assert _same(item.data["c"], expected[1])  # type: ignore[union-attr]
    else:
        assert expected[1] in item.reason  # type: ignore[union-attr]
