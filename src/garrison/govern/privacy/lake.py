"""Reading the event lake for privacy work: which stored events mention a person, and
which partitions are past their retention.

Both only read; the changes go through ``ParquetEventStore.replace_files``, which commits
them atomically. A file is read whole (one flush group of one partition: bounded by the
hunt's flush size), prefiltered with Arrow's substring search, and only the candidate rows
are parsed and checked with the whole-word ``Matcher``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from garrison.core.errors import StorageError
from garrison.govern.privacy.match import Matcher
from garrison.store.lake import ParquetEventStore

_TEXT_COLUMNS = ("ocsf", "fields", "raw")
DAY_MS = 86_400_000


def needles(terms: list[str]) -> list[str]:
    """The terms as they can appear in the lake's text: as given and JSON-escaped."""
    out: set[str] = set()
    for term in terms:
        out.update({term, json.dumps(term, ensure_ascii=False)[1:-1], json.dumps(term)[1:-1]})
    return sorted(t for t in out if t)


def _candidates(table: pa.Table, found: list[str]) -> pa.Array:
    mask = pa.array([False] * table.num_rows)
    for name in _TEXT_COLUMNS:
        column = pc.fill_null(table.column(name), "")
        for needle in found:
            hit = pc.match_substring(column, needle, ignore_case=True)
            mask = pc.or_(mask, hit)
    return mask


def _loads(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return text


def row_matches(row: dict[str, Any], matcher: Matcher) -> bool:
    """Whether an event row mentions any of the matcher's terms (OCSF, fields or raw)."""
    if matcher.search(str(row.get("raw") or "")):
        return True
    return matcher.in_leaves(_loads(row.get("ocsf"))) or matcher.in_leaves(
        _loads(row.get("fields"))
    )


@dataclass(slots=True)
class FileHits:
    """One lake file, its table and which rows mention the subject."""

    path: Path
    table: pa.Table
    hits: list[bool]

    @property
    def count(self) -> int:
        return sum(self.hits)

    def kept(self) -> pa.Table:
        return self.table.filter(pa.array([not h for h in self.hits]))

    def rows(self) -> Iterator[dict[str, Any]]:
        for row, hit in zip(self.table.to_pylist(), self.hits, strict=True):
            if hit:
                yield row


def subject_hits(store: ParquetEventStore, matcher: Matcher) -> Iterator[FileHits]:
    """Every committed file holding at least one event that mentions the subject."""
    found = needles(matcher.terms)
    if not found:
        return
    for path in store.files():
        try:
            table = pq.read_table(path)
        except FileNotFoundError:
            raise StorageError(
                f"{path} went away while it was read (a deletion or retention ran at the "
                "same time): run again"
            ) from None
        candidates = _candidates(table, found).to_pylist()
        if not any(candidates):
            continue
        rows = table.to_pylist()
        hits = [bool(c) and row_matches(r, matcher) for c, r in zip(candidates, rows, strict=True)]
        if any(hits):
            yield FileHits(path, table, hits)


def event_json(row: dict[str, Any]) -> dict[str, Any]:
    """A stored event as exported: its provenance and its OCSF object and fields."""
    return {
        "kind": "event",
        "uid": row.get("uid"),
        "time": row.get("time"),
        "source_format": row.get("source_format"),
        "source_path": row.get("source_path"),
        "record_id": row.get("record_id"),
        "ocsf": _loads(row.get("ocsf")),
        "fields": _loads(row.get("fields")),
        "raw": row.get("raw") or "",
    }


# ------------------------------------------------------------------------------ retention
@dataclass(slots=True)
class Partition:
    """One (source, day) partition of the lake and the committed files in it."""

    source: str
    day: str
    files: list[Path] = field(default_factory=list)
    events: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "day": self.day,
            "files": len(self.files),
            "events": self.events,
        }


def partitions(store: ParquetEventStore) -> list[Partition]:
    """The committed partitions, with their files and event counts (from the footers)."""
    found: dict[tuple[str, str], Partition] = {}
    for path in store.files():
        source = path.parent.parent.name.removeprefix("source=")
        day = path.parent.name.removeprefix("day=")
        part = found.setdefault((source, day), Partition(source, day))
        part.files.append(path)
        part.events += pq.ParquetFile(path).metadata.num_rows
    return [found[k] for k in sorted(found)]


def lake_name(source: str) -> str:
    """A source format as the lake names its folder (``ParquetEventStore.write_batch``)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in source)


def cutoff_day(days: int, now_ms: int) -> str:
    """The oldest day kept under a retention of ``days``: a partition of an earlier day
    holds only events older than the limit."""
    today = datetime.fromtimestamp(now_ms / 1000, tz=UTC).date()
    return (today - timedelta(days=days)).isoformat()


def expired(
    store: ParquetEventStore, retention: dict[str, int], now_ms: int
) -> list[tuple[Partition, int]]:
    """Partitions of a source with a retention whose day is before its cutoff, with the
    retention that expired them. Partitions of day ``unknown`` (no usable event time) are
    never expired: their age is not known."""
    limits = {lake_name(s): d for s, d in retention.items()}
    out: list[tuple[Partition, int]] = []
    for part in partitions(store):
        days = limits.get(part.source)
        if days is None or part.day == "unknown":
            continue
        if part.day < cutoff_day(days, now_ms):
            out.append((part, days))
    return out
