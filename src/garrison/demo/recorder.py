"""Collects generated records per output file, each tagged with the attack stage it belongs to.

Generators (background and scenario) append records in any order; the writers sort each
file by time (ties keep the order records were added, so output is deterministic) and only
then assign line numbers, which is why labels are computed after writing, not before.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: Output files, relative to DIR/data. The key is the sink name used by generators.
SINKS: dict[str, str] = {
    "auth": "logs/linux/auth.log",
    "conn": "logs/zeek/conn.log",
    "dns": "logs/zeek/dns.log",
    "win": "logs/windows/events.jsonl",
}


@dataclass(slots=True)
class Rec:
    """One record: its time (µs epoch), its content, and the stage ("" for background)."""

    time_us: int
    data: Any
    stage: str
    seq: int


@dataclass(slots=True)
class Recorder:
    """Per-sink record lists. ``start_us``/``end_us`` bound the data set; records outside the
    window are dropped (a session that would run past the last day simply is not logged)."""

    start_us: int
    end_us: int
    records: dict[str, list[Rec]] = field(default_factory=dict)
    _seq: int = 0

    def add(self, sink: str, time_us: int, data: Any, stage: str = "") -> None:
        if sink not in SINKS:
            raise KeyError(f"unknown sink {sink!r}")
        if not self.start_us <= time_us < self.end_us:
            return
        self._seq += 1
        self.records.setdefault(sink, []).append(Rec(time_us, data, stage, self._seq))

    def sorted(self, sink: str) -> list[Rec]:
        return sorted(self.records.get(sink, []), key=lambda r: (r.time_us, r.seq))

    def all(self) -> Iterator[tuple[str, Rec]]:
        for sink in SINKS:
            for rec in self.records.get(sink, []):
                yield sink, rec

    def count(self, sink: str) -> int:
        return len(self.records.get(sink, []))
