"""Zeek logs, both the TSV writer's output (``#separator``/``#fields``/``#types`` headers)
and the JSON writer's (one flat JSON object per line with ``ts``, ``uid``, ``id.orig_h`` ...).

Both come out as format ``zeek``: ``RawRecord.data`` is a flat dict of field name -> typed
value (TSV cells converted by ``#types``: time/interval/double -> float, count/int/port ->
int, bool -> True/False, set/vector -> list; unset ``-`` fields are left out, exactly as
the JSON writer leaves them out, so both writers give the same dict). ``meta["path"]`` is
the log's ``#path`` (TSV) or ``_path`` / the path inferred from the field names (JSON).

What is and is not a record:
- ``Line.number`` (1-based) is the position; header and comment lines (``#...``, including
  ``#open``/``#close``) and blank lines are not records.
- A new ``#separator`` line starts a new header block (rotated logs concatenated together):
  each block's ``#fields``/``#types``/``#path`` apply to the rows after it.
- A row whose column count differs from ``#fields``, a row before any ``#fields``, a cell
  that does not parse as its ``#type``, a line that is not a JSON object in a JSON log and a
  line over the size cap are quarantined with the reason.

Stratosphere's ``label``/``detailedlabel`` columns are ground truth, not telemetry: they are
taken out of ``data`` and put in ``meta["labels"]`` only (evaluation code may read them; no
detector ever sees them). They remain in the raw text, which is kept verbatim.

Values are kept as Zeek wrote them: ``\\xNN`` escapes of non-printable bytes stay literal
(the JSON writer shows them the same way); only escapes of structural characters are
undone (the separator, the set separator, and a whole cell that is an escaped ``-`` or
``(empty)``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from garrison.core.events import Quarantined, RawRecord
from garrison.ingest._text import excerpt_of, first_line_prefix, head_lines, iter_lines
from garrison.ingest.base import SOURCES, Source, SourceItem
from garrison.ingest.jsonl import parse_object

#: Ground-truth columns in labelled captures; never given to detectors.
LABEL_COLUMNS = ("label", "detailedlabel")

_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")
_CONTAINER = re.compile(r"^(set|vector)\[(\w+)\]$")


def infer_zeek_path(keys: Any) -> str:
    """The Zeek log a flat record most likely comes from, judged by its field names.

    >>> infer_zeek_path({"ts", "uid", "query", "qtype_name"})
    'dns'
    """
    k = set(keys)
    rules: tuple[tuple[str, Callable[[set[str]], bool]], ...] = (
        (
            "dns",
            lambda s: (
                "query" in s and bool(s & {"qtype_name", "rcode", "trans_id", "answers", "qtype"})
            ),
        ),
        ("sip", lambda s: "call_id" in s or "request_from" in s),
        (
            "http",
            lambda s: (
                "method" in s
                and bool(s & {"uri", "host", "status_code", "user_agent", "trans_depth"})
            ),
        ),
        ("ssl", lambda s: bool(s & {"server_name", "cipher", "ja3", "ja3s", "curve"})),
        ("ssh", lambda s: bool(s & {"auth_success", "auth_attempts", "hassh", "kex_alg"})),
        ("notice", lambda s: "note" in s and "msg" in s),
        ("weird", lambda s: "name" in s and bool(s & {"addl", "notice", "peer"})),
        ("files", lambda s: "fuid" in s and bool(s & {"mime_type", "seen_bytes", "tx_hosts"})),
        ("software", lambda s: "software_type" in s),
        ("tunnel", lambda s: "tunnel_type" in s),
        ("x509", lambda s: any(x.startswith("certificate.") for x in s)),
        ("conn", lambda s: bool(s & {"conn_state", "orig_bytes", "history", "orig_pkts"})),
        ("known_hosts", lambda s: s <= {"ts", "host"} and "host" in s),
    )
    for name, test in rules:
        if test(k):
            return name
    return "unknown"


def looks_like_zeek_json(obj: Any) -> bool:
    """A JSON object the Zeek JSON writer could have written (flat ``id.*`` or nested ``id``)."""
    if not isinstance(obj, dict) or "ts" not in obj:
        return False
    if "_path" in obj or "uid" in obj or "fuid" in obj or "id.orig_h" in obj:
        return True
    ident = obj.get("id")
    return isinstance(ident, dict) and "orig_h" in ident


@SOURCES.register("zeek")
class ZeekSource(Source):
    """Zeek TSV or JSON logs; see the module docstring."""

    format: ClassVar[str] = "zeek"
    #: Before every generic format: a Zeek JSON log is also valid JSON lines.
    priority: ClassVar[int] = 20

    @classmethod
    def sniff(cls, head: bytes, path: Path) -> bool:
        if first_line_prefix(head).startswith("#separator"):
            return True
        lines = head_lines(head, 5)
        if not lines or not lines[0].lstrip().startswith("{"):
            return False
        hits = 0
        for line in lines:
            try:
                hits += looks_like_zeek_json(json.loads(line))
            except (ValueError, RecursionError):
                continue
        return looks_like_zeek_json(_loads_or_none(lines[0])) and hits * 2 >= len(lines)

    def read(self, path: Path) -> Iterator[SourceItem]:
        mode: str | None = None
        header = _Header()
        for line in iter_lines(path, invalid="escape"):
            text = line.text
            if text is None:
                yield self._quarantine(
                    path, line.number, line.error or "unreadable line", line.excerpt
                )
                continue
            if not text.strip():
                continue
            if mode is None:
                mode = "json" if text.lstrip().startswith("{") else "tsv"
            if mode == "json":
                yield self._json_row(path, line.number, text)
            elif text.startswith("#"):
                header = header.apply(text)
            else:
                yield self._tsv_row(path, line.number, text, header)

    def _quarantine(self, path: Path, position: int, reason: str, excerpt: str) -> Quarantined:
        return Quarantined(str(path), position, reason, self.format, excerpt_of(excerpt))

    def _tsv_row(self, path: Path, number: int, text: str, header: _Header) -> SourceItem:
        if header.fields is None:
            return self._quarantine(path, number, "data row before any #fields header", text)
        cells = text.split(header.separator)
        if len(cells) != len(header.fields):
            return self._quarantine(
                path,
                number,
                f"expected {len(header.fields)} columns (#fields), got {len(cells)}",
                text,
            )
        data: dict[str, Any] = {}
        unset, empty = header.unset, header.empty
        try:
            for name, cell, convert, kind in zip(
                header.fields, cells, header.converters, header.kinds, strict=True
            ):
                if cell == unset:
                    continue
                # unsigned numbers and plain text (most cells) need no call
                if kind == _UNSIGNED and cell.isdigit() and cell.isascii() and len(cell) <= 20:
                    data[name] = int(cell)
                elif kind == _PLAIN_TEXT and cell != empty and "\\x" not in cell:
                    data[name] = cell
                else:
                    data[name] = convert(cell)
        except ValueError as exc:
            return self._quarantine(path, number, f"field {name!r}: {exc}", text)
        meta: dict[str, Any] = {"path": header.path or infer_zeek_path(data), "writer": "tsv"}
        _move_labels(data, meta)
        return RawRecord(number, data, text, meta)

    def _json_row(self, path: Path, number: int, text: str) -> SourceItem:
        try:
            obj = parse_object(text)
        except ValueError as exc:
            return self._quarantine(path, number, str(exc), text)
        data = _flatten_flat(obj)
        zeek_path = data.pop("_path", None)
        meta: dict[str, Any] = {
            "path": zeek_path
            if isinstance(zeek_path, str) and zeek_path
            else infer_zeek_path(data),
            "writer": "json",
        }
        _move_labels(data, meta)
        return RawRecord(number, data, text, meta)


def _move_labels(data: dict[str, Any], meta: dict[str, Any]) -> None:
    labels = {name: data.pop(name) for name in LABEL_COLUMNS if name in data}
    if labels:
        meta["labels"] = labels


def _loads_or_none(line: str) -> Any:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def _flatten_flat(obj: dict[str, Any], prefix: str = "", depth: int = 0) -> dict[str, Any]:
    """Zeek JSON is flat (``id.orig_h``); some exporters nest (``{"id": {"orig_h": ..}}``)."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and depth < 8:
            out.update(_flatten_flat(value, name + ".", depth + 1))
        else:
            out[name] = value
    return out


def _unescape_hex(text: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _parse_bool(cell: str) -> bool:
    if cell == "T":
        return True
    if cell == "F":
        return False
    raise ValueError(f"{cell[:40]!r} is not a bool (T/F)")


def _integer_parser(zeek_type: str) -> Callable[[str], int]:
    def parse(cell: str) -> int:
        text = cell[1:] if cell.startswith("-") and zeek_type == "int" else cell
        if not (text.isascii() and text.isdigit()) or len(text) > 20:
            raise ValueError(f"{cell[:40]!r} is not a {zeek_type}")
        return int(cell)

    return parse


def _parse_float(cell: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"{cell[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{cell[:40]!r} is not a finite number")
    return value


_UNSIGNED, _PLAIN_TEXT = 1, 2
_NOT_TEXT = frozenset({"count", "int", "port", "time", "interval", "double", "bool"})


def _kind_of(zeek_type: str) -> int:
    if zeek_type in ("count", "port"):
        return _UNSIGNED
    if zeek_type in _NOT_TEXT or _CONTAINER.match(zeek_type):
        return 0
    return _PLAIN_TEXT


@dataclass(slots=True)
class _Header:
    """The state one header block sets: separators, markers, path, fields and types."""

    separator: str = "\t"
    set_separator: str = ","
    empty: str = "(empty)"
    unset: str = "-"
    path: str | None = None
    fields: list[str] | None = None
    types: list[str] | None = None
    converters: list[Callable[[str], Any]] = field(default_factory=list)
    #: Per column: ``_UNSIGNED`` (count, port), ``_PLAIN_TEXT`` (string-like), else 0; lets
    #: the row loop take the common cells without calling the converter (same result).
    kinds: list[int] = field(default_factory=list)

    def apply(self, text: str) -> _Header:
        """The header after one ``#`` line (a new ``#separator`` starts a fresh block)."""
        if text.startswith("#separator"):
            value = text[len("#separator") :].strip(" ")
            sep = _unescape_hex(value) if value else "\t"
            return _Header(separator=sep or "\t")
        key, _, rest = text[1:].partition(self.separator)
        values = rest.split(self.separator) if rest else []
        if key == "set_separator" and values:
            self.set_separator = _unescape_hex(values[0]) or ","
        elif key == "empty_field" and values:
            self.empty = _unescape_hex(values[0])
        elif key == "unset_field" and values:
            self.unset = _unescape_hex(values[0])
        elif key == "path" and values:
            self.path = values[0]
        elif key == "fields":
            self.fields = values
            self.types = None
        elif key == "types":
            self.types = values
        else:
            return self  # #open, #close and other comments change nothing
        self._build_converters()
        return self

    def _build_converters(self) -> None:
        if self.fields is None:
            self.converters, self.kinds = [], []
            return
        types = self.types if self.types and len(self.types) == len(self.fields) else None
        names = [types[i] if types else "string" for i in range(len(self.fields))]
        self.converters = [self._converter(zeek_type) for zeek_type in names]
        self.kinds = [_kind_of(zeek_type) for zeek_type in names]

    def _converter(self, zeek_type: str) -> Callable[[str], Any]:
        container = _CONTAINER.match(zeek_type)
        if container:
            inner = self._scalar(container.group(2))
            sep, empty, unset = self.set_separator, self.empty, self.unset

            def convert_list(cell: str) -> list[Any]:
                if cell == empty:
                    return []
                return [None if item == unset else inner(item) for item in cell.split(sep)]

            return convert_list
        return self._scalar(zeek_type)

    def _scalar(self, zeek_type: str) -> Callable[[str], Any]:
        if zeek_type in ("count", "int", "port"):
            return _integer_parser(zeek_type)
        if zeek_type in ("time", "interval", "double"):
            return _parse_float
        if zeek_type == "bool":
            return _parse_bool
        structural = {self.separator, self.set_separator}
        markers = {self.unset, self.empty}
        empty = self.empty

        def convert_text(cell: str) -> str:
            if cell == empty:
                return ""
            if "\\x" not in cell:
                return cell
            decoded = _unescape_hex(cell)
            if decoded in markers:
                return decoded
            return _ESCAPE.sub(
                lambda m: (
                    chr(int(m.group(1), 16))
                    if chr(int(m.group(1), 16)) in structural
                    else m.group(0)
                ),
                cell,
            )

        return convert_text
