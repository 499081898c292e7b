"""CSV (and ``;``/tab/``|``-separated) files with a header row.

Sniffing is deliberately strict, because CSV is the format everything else degrades into
(``csv.Sniffer`` happily calls prose, Markdown and syslog "CSV"). A file is CSV when, in the
first complete lines of its head:
- the first line is a header of >= 2 cells, each a plausible column name (letters, digits
  and ``_ . - / ( ) @ # %`` and inner spaces, at most 64 characters, starting with a letter,
  ``_`` or ``@``, at most four words); one empty cell is allowed in the first position only
  (the index column pandas writes, as in the LANL red-team export);
- one delimiter among ``,`` ``;`` tab ``|`` splits the header and at least 60 % of the data
  rows (at least one; all of them for a two-column header) into the same number of cells;
- it runs last (``priority`` 90): Zeek, JSON lines and syslog have already declined.

Reading: the header names the cells of each row; ``RawRecord.data`` is a dict header ->
cell (duplicate header names get ``_2``, ``_3`` ... suffixes, the empty index header is
named ``_index``). Position is the 1-based line number of the row's first line (header is
line 1); a quoted cell may span lines (up to ``MAX_RECORD_LINES`` lines: an unterminated
quote quarantines that first line with the reason and reading resumes on the next line, so
one stray quote cannot swallow the rest of the file). Rows whose cell count differs from
the header's are quarantined. Blank lines are not records. Invalid UTF-8 bytes are kept as
``\\xNN`` escapes (``meta["invalid_utf8"]``), not quarantined.

Label columns (``label``, ``detailedlabel``, ``redteam`` ... see ``LABEL_COLUMNS``) are ground
truth: they go to ``meta["labels"]`` only, never to ``data``.
"""

from __future__ import annotations

import csv
import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from garrison.core.events import Quarantined, RawRecord
from garrison.ingest._text import Line, head_lines, iter_lines
from garrison.ingest.base import SOURCES, Source, SourceItem

DELIMITERS = (",", ";", "\t", "|")
#: A quoted cell may span at most this many physical lines.
MAX_RECORD_LINES = 1000
#: Ground-truth columns of labelled data sets (lower-cased header names).
LABEL_COLUMNS = frozenset(
    {
        "label",
        "labels",
        "detailedlabel",
        "detailed_label",
        "redteam",
        "is_redteam",
        "attack_label",
        "ground_truth",
    }
)

_NAME = re.compile(r"^[A-Za-z_@][A-Za-z0-9_.\-/()@#% ]{0,63}$")
_MIN_SHARE = 0.6


def plausible_header(cells: list[str]) -> bool:
    """True when ``cells`` read like column names (see the module docstring)."""
    if len(cells) < 2:
        return False
    for i, raw in enumerate(cells):
        name = raw.strip()
        if not name:
            if i == 0:
                continue
            return False
        if not _NAME.match(name) or len(name.split()) > 4:
            return False
    return sum(1 for c in cells if c.strip()) >= 2


def _split_row(line: str, delimiter: str) -> list[str] | None:
    try:
        return next(csv.reader([line], delimiter=delimiter))
    except (csv.Error, StopIteration):
        return None


def sniff_delimiter(lines: list[str]) -> str | None:
    """The delimiter that makes ``lines`` a CSV with a header, or None."""
    if len(lines) < 2:
        return None
    best: tuple[int, str] | None = None
    for delimiter in DELIMITERS:
        header = _split_row(lines[0], delimiter)
        if header is None or not plausible_header(header):
            continue
        rows = [_split_row(line, delimiter) for line in lines[1:]]
        same = sum(1 for row in rows if row is not None and len(row) == len(header))
        share = _MIN_SHARE if len(header) >= 3 else 1.0
        if same and same >= share * len(rows) and (best is None or len(header) > best[0]):
            best = (len(header), delimiter)
    return best[1] if best else None


def header_names(cells: list[str]) -> list[str]:
    """Column names for the header cells: stripped, the empty index column named ``_index``,
    duplicates numbered."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for cell in cells:
        name = cell.strip() or "_index"
        count = seen.get(name, 0) + 1
        seen[name] = count
        names.append(name if count == 1 else f"{name}_{count}")
    return names


@SOURCES.register("csv")
class CsvSource(Source):
    """CSV with a header row; see the module docstring."""

    format: ClassVar[str] = "csv"
    #: Last: every other line format is more specific.
    priority: ClassVar[int] = 90

    @classmethod
    def sniff(cls, head: bytes, path: Path) -> bool:
        lines = head_lines(head, 20)
        # A quoted multi-line cell in the sample would skew the counts: keep whole records.
        return sniff_delimiter(_whole_records(lines)) is not None

    def read(self, path: Path) -> Iterator[SourceItem]:
        lines = iter_lines(path, invalid="escape")
        header: list[str] | None = None
        delimiter = ","
        labels_at: list[tuple[int, str]] = []
        headless = False
        for number, text, replaced, item in _records(path, lines, self.format):
            if item is not None:
                yield item
                continue
            if headless:  # every row still counts: none is dropped silently
                yield Quarantined(
                    str(path), number, "row of a CSV file without a header", self.format, text[:200]
                )
                continue
            if header is None:
                delimiter = _delimiter_for(text)
                cells = _split_row(text, delimiter)
                if cells is None or not plausible_header(cells):
                    headless = True
                    yield Quarantined(
                        str(path), number, "first row is not a CSV header", self.format, text[:200]
                    )
                    continue
                header = header_names(cells)
                labels_at = [(i, n) for i, n in enumerate(header) if n.lower() in LABEL_COLUMNS]
                continue
            row = _split_row(text, delimiter)
            if row is None:
                yield Quarantined(
                    str(path), number, "row is not valid CSV", self.format, text[:200]
                )
                continue
            if len(row) != len(header):
                yield Quarantined(
                    str(path),
                    number,
                    f"expected {len(header)} cells (header), got {len(row)}",
                    self.format,
                    text[:200],
                )
                continue
            data = dict(zip(header, row, strict=True))
            meta: dict[str, Any] = {"delimiter": delimiter}
            if labels_at:
                meta["labels"] = {name: data.pop(name) for _, name in labels_at}
            if replaced:
                meta["invalid_utf8"] = True
            yield RawRecord(number, data, text, meta)


def _delimiter_for(header_line: str) -> str:
    """The delimiter giving the most plausible header cells (the file was sniffed already;
    this only re-derives which delimiter won)."""
    best = ","
    best_count = 0
    for delimiter in DELIMITERS:
        cells = _split_row(header_line, delimiter)
        if cells and plausible_header(cells) and len(cells) > best_count:
            best, best_count = delimiter, len(cells)
    return best


def _whole_records(lines: list[str]) -> list[str]:
    out: list[str] = []
    pending: list[str] = []
    for line in lines:
        pending.append(line)
        joined = "\n".join(pending)
        if joined.count('"') % 2 == 0:
            out.append(joined)
            pending = []
    return out


def _records(
    path: Path, lines: Iterator[Line], fmt: str
) -> Iterator[tuple[int, str, bool, Quarantined | None]]:
    """(first line number, text, invalid UTF-8 replaced, quarantine) per logical record.

    A record is complete when its quote characters are balanced (RFC 4180 quoting, where a
    quote inside a quoted cell is doubled). Records that never balance within
    ``MAX_RECORD_LINES`` lines quarantine their first line and resume from the second.
    """
    queue: deque[Line] = deque()
    source = iter(lines)
    while True:
        if not queue:
            nxt = next(source, None)
            if nxt is None:
                return
            queue.append(nxt)
        first = queue[0]
        if first.text is None:
            queue.popleft()
            yield (
                first.number,
                "",
                False,
                Quarantined(
                    str(path), first.number, first.error or "unreadable line", fmt, first.excerpt
                ),
            )
            continue
        if not first.text.strip():
            queue.popleft()
            continue
        quotes = first.text.count('"')
        used = 1
        while quotes % 2 and used < MAX_RECORD_LINES:
            if used >= len(queue):
                nxt = next(source, None)
                if nxt is None:
                    break
                queue.append(nxt)
            part = queue[used]
            if part.text is None:
                break
            quotes += part.text.count('"')
            used += 1
        if quotes % 2:
            queue.popleft()
            yield (
                first.number,
                "",
                False,
                Quarantined(
                    str(path), first.number, "unterminated quoted cell", fmt, first.text[:200]
                ),
            )
            continue
        parts = [queue.popleft() for _ in range(used)]
        yield (
            first.number,
            "\n".join(p.text or "" for p in parts),
            any(p.replaced for p in parts),
            None,
        )
