"""JSON lines: one JSON object per line (generic, ECS, OCSF, Windows-shaped exports such as
OTRF/Mordor, CloudTrail-like API and model-query logs). What kind of object it is, is the
normalizer's question; this source only reads and validates.

Rules (each violation quarantines that line with the reason; nothing is silently dropped):
- a record is one line holding a JSON object; a blank or whitespace-only line is not a
  record (exports often end with, or contain, blank lines);
- arrays, scalars, broken JSON and the non-standard constants ``NaN``/``Infinity`` are
  quarantined (they cannot be stored as JSON later);
- a line that is not valid UTF-8 is quarantined with ``invalid UTF-8 at byte N`` (1-based
  byte offset in the line): such bytes cannot be JSON text;
- a line over 10 MiB is quarantined without being decoded;
- nesting deeper than ``MAX_DEPTH`` (64) levels or more than ``MAX_KEYS`` (10,000) keys in
  one object is quarantined (a flattening bomb would otherwise cost every later stage);
- UTF-8 with or without BOM and UTF-16 with BOM are read; CRLF line ends are fine.

``RawRecord.data`` is the parsed object, ``text`` the line; position is the line number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from orjson import loads as _fast_loads

from garrison.core.events import Quarantined, RawRecord
from garrison.ingest._text import first_line_prefix, head_lines, record_lines, scrub_surrogates
from garrison.ingest.base import SOURCES, Source, SourceItem

MAX_DEPTH = 64
MAX_KEYS = 10_000
#: Beyond 64 bits orjson reads an integer as a float (losing an id's exact value); a float
#: this large sends the line to ``json``, which keeps integers exact.
_BIG = 9223372036854775808.0


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def parse_object(text: str) -> dict[str, Any]:
    """The JSON object on a line; ``ValueError`` with a human reason otherwise.

    ``orjson`` parses the ordinary lines (~2x faster); a line it refuses (broken JSON, NaN,
    lone surrogate escapes) or may read differently (integers beyond 64 bits, see ``_BIG``)
    goes through ``json``, whose objects and error messages are the reference, so both
    paths give the same objects and the same reasons.
    """
    try:
        obj = _fast_loads(text)
    except ValueError:
        pass  # json gives the reference reason (or reads what orjson refuses)
    else:
        if obj.__class__ is dict and not check_size(obj):
            return obj
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise ValueError(f"not valid JSON: {str(exc)[:120]}") from None
    if not isinstance(obj, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(obj), "a number"
        )
        raise ValueError(f"not a JSON object ({kind})")
    check_size(obj)
    scrubbed: dict[str, Any] = scrub_surrogates(obj, text)
    return scrubbed


def check_size(obj: dict[str, Any]) -> bool:
    """``ValueError`` when ``obj`` is deeper than MAX_DEPTH or has more than MAX_KEYS keys
    (counted over every nested object, lists included). Iterative: no recursion limit.

    Returns whether the object holds a float of 2**63 or more in magnitude (the one value
    ``orjson`` may have read differently from ``json``), found in the same walk.
    """
    keys = 0
    big = False
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
        if value.__class__ is dict:
            keys += len(value)
            if keys > MAX_KEYS:
                raise ValueError(f"JSON object has more than {MAX_KEYS} keys")
            items = value.values()
        else:
            items = value
        for item in items:
            kind = item.__class__
            if kind is dict or kind is list:
                stack.append((item, depth + 1))
            elif kind is float and (item >= _BIG or item <= -_BIG):
                big = True
    return big


@SOURCES.register("jsonl")
class JsonLinesSource(Source):
    """Generic JSON lines; see the module docstring."""

    format: ClassVar[str] = "jsonl"
    #: After Zeek JSON (more specific), before syslog and CSV.
    priority: ClassVar[int] = 40

    @classmethod
    def sniff(cls, head: bytes, path: Path) -> bool:
        lines = head_lines(head, 10)
        if not lines:
            # A first line longer than the sniff window: trust a JSON object's opening.
            prefix = first_line_prefix(head)
            return prefix.startswith('{"') or prefix.startswith('{ "')
        if not lines[0].lstrip().startswith("{"):
            return False
        good = 0
        for line in lines:
            try:
                parse_object(line)
                good += 1
            except ValueError:
                continue
        return good * 2 >= len(lines) and good > 0

    def read(self, path: Path) -> Iterator[SourceItem]:
        for line in record_lines(path, self.format, invalid="error"):
            if isinstance(line, Quarantined):
                yield line
                continue
            try:
                obj = parse_object(line.text)
            except ValueError as exc:
                yield Quarantined(str(path), line.number, str(exc), self.format, line.text[:200])
                continue
            yield RawRecord(line.number, obj, line.text)
