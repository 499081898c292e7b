"""The ``Source`` contract: recognise a format from content, read it as records.

A source never raises on bad content: each record it cannot parse comes back as a
``Quarantined`` entry with its position and reason, and a file it cannot read at all
(truncated, garbage) yields quarantine entries too, so the run accounts for everything.
Only a file that cannot be opened raises ``OSError``, which the pipeline reports and skips.

Every item a source yields counts as one record read.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from garrison.core.events import Quarantined, RawRecord
from garrison.core.plugins import Registry

#: How many bytes of a file sources get to recognise it.
SNIFF_BYTES = 64 * 1024

SourceItem = RawRecord | Quarantined


class Source(ABC):
    """Reads one format. Subclasses register with ``@SOURCES.register("name")``."""

    #: Stable format name: recorded in provenance and the per-source summary.
    format: ClassVar[str]
    #: Lower runs first when sniffing; specific formats before generic ones (CSV last).
    priority: ClassVar[int] = 50

    @classmethod
    @abstractmethod
    def sniff(cls, head: bytes, path: Path) -> bool:
        """True when ``head`` (the first bytes of the file) looks like this format."""

    @abstractmethod
    def read(self, path: Path) -> Iterator[SourceItem]:
        """Every record of the file, in order, or a quarantine entry in its place."""


SOURCES: Registry[type[Source]] = Registry("source")


class MemorySource(Source):
    """An in-memory source for tests: records given as dicts or lines, tagged with a format.

    >>> src = MemorySource([{"a": 1}, "line two"], format_name="jsonl")
    >>> [item.position for item in src.read(Path("mem"))]
    [1, 2]
    """

    format = "memory"

    def __init__(self, records: Iterable[Any], format_name: str = "memory") -> None:
        self._records = list(records)
        self.format_name = format_name

    @classmethod
    def sniff(cls, head: bytes, path: Path) -> bool:
        return False

    def read(self, path: Path) -> Iterator[SourceItem]:
        import json

        for i, rec in enumerate(self._records, start=1):
            text = rec if isinstance(rec, str) else json.dumps(rec, default=str)
            yield RawRecord(position=i, data=rec, text=text)
