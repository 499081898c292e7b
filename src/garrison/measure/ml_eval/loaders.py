"""Turning evaluation files into events through the hunt's own ingest and normalizers.

The evaluation should measure what a user runs, so files go through the same source
detection, parsing and normalization as ``garrison hunt`` (``ingest.reader`` +
``pipeline.build_events``), without storing anything. Where no source or normalizer for a
format is installed, a minimal syslog reader keeps the evaluation runnable; the result
says which path was taken.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from garrison.core.events import Event, Provenance

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
    try:
        from garrison.ingest.reader import InputFile, batches, open_source
        from garrison.pipeline import build_events
    except ImportError:
        return []
    file = InputFile(path, str(path))
    source = open_source(file)
    if source is None:
        return []
    events: list[Event] = []
    for batch in batches(source, file, 5000):
        built, _ = build_events(batch, 0)
        events.extend(built)
    return events


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
