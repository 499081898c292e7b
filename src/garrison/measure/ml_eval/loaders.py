"""Turning evaluation files into events through the hunt's own ingest and normalizers.

The evaluation should measure what a user runs, so files go through the same source
detection, parsing and normalization as ``garrison hunt`` (``ingest.reader`` +
``pipeline.build_events``), without storing anything. Where no source or normalizer for a
format is installed, a minimal syslog reader keeps the evaluation runnable; the result
says which path was taken.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from garrison.core.events import Event, Provenance

if TYPE_CHECKING:
    from garrison.ingest.reader import Batch

#: Records per batch, as the hunt reads them (event uids depend on the batching).
BATCH_SIZE = 5000

_SYSLOG = re.compile(
    r"(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<hms>\d{2}:\d{2}:\d{2}) "
    r"(?P<host>\S+) (?P<prog>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: (?P<msg>.*)$"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Year assumed by the fallback syslog reader (syslog lines carry none).
FALLBACK_YEAR = 2024

last_path: dict[str, str] = {}


def events_from_files(paths: Sequence[Path]) -> list[Event]:
    """Events of the files, in file order; quarantined records are left out."""
    out: list[Event] = []
    for path in paths:
        events = _via_pipeline(path)
        if events:
            last_path[str(path)] = "pipeline"
        else:
            events = _fallback_syslog(path)
            last_path[str(path)] = "fallback-syslog"
        out.extend(events)
    return out


def _via_pipeline(path: Path) -> list[Event]:
    return [event for _, events in file_batches(path) for event in events]


def file_batches(path: Path) -> Iterator[tuple[Batch, list[Event]]]:
    """Each batch ``garrison hunt`` reads from ``path``, with the events it builds from it:
    the same source detection, parsing, normalizers and event uids (``pipeline.build_events``);
    quarantined records are left out, nothing is stored. Nothing for an empty file."""
    from garrison.ingest.reader import InputFile, batches, open_source
    from garrison.pipeline import build_events

    file = InputFile(path, str(path))
    source = open_source(file)
    if source is None:
        return
    for batch in batches(source, file, BATCH_SIZE):
        events, _ = build_events(batch, 0)
        yield batch, events


def events_with_meta(path: Path) -> Iterator[tuple[Event, dict[str, Any]]]:
    """(event, its record's ``meta``) for every event of ``path`` (see ``file_batches``).

    ``meta`` is what a source read beside the record and kept out of the event, such as the
    Stratosphere ``label`` columns: evaluation truth that never reaches a detector. Records
    are matched by position (the ``record_id`` findings cite as evidence).
    """
    for batch, events in file_batches(path):
        meta = {rec.position: rec.meta for rec in batch.records}
        for event in events:
            yield event, dict(meta.get(event.record_id) or {})


def _fallback_syslog(path: Path) -> list[Event]:
    out: list[Event] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            m = _SYSLOG.match(line.rstrip("\n"))
            if not m or m["mon"] not in _MONTHS:
                continue
            hh, mm, ss = (int(x) for x in m["hms"].split(":"))
            try:
                when = datetime(
                    FALLBACK_YEAR,
                    _MONTHS.index(m["mon"]) + 1,
                    int(m["day"]),
                    hh,
                    mm,
                    ss,
                    tzinfo=UTC,
                )
            except ValueError:
                continue
            fields = {
                "hostname": m["host"],
                "program": m["prog"],
                "pid": m["pid"],
                "message": m["msg"],
            }
            prov = Provenance(str(path), "syslog", number, "eval", 0)
            out.append(
                Event(
                    f"{path.name}:{number}",
                    0,
                    int(when.timestamp() * 1000),
                    {},
                    fields,
                    line.rstrip("\n"),
                    prov,
                )
            )
    return out
