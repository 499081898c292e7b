"""A tiny line format used by pipeline tests so they don't depend on any real source.

Lines look like ``#kv`` (header) then ``t=1000 user=alice host=ws1``. A line without ``t=``
is a bad record (the normalizer raises RecordError).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from garrison.core.errors import RecordError
from garrison.core.events import Event, Quarantined, RawRecord
from garrison.core.findings import Evidence, Finding
from garrison.detect.base import Detector
from garrison.ingest.base import SOURCES, Source
from garrison.normalize.base import NORMALIZERS, Normalized

FORMAT = "testkv"


class KVSource(Source):
    format = FORMAT
    priority = 1

    @classmethod
    def sniff(cls, head: bytes, path: Path) -> bool:
        return head.startswith(b"#kv\n")

    def read(self, path: Path) -> Iterator[RawRecord | Quarantined]:
        with path.open("rb") as fh:
            for lineno, raw in enumerate(fh, start=1):
                if lineno == 1:
                    continue
                try:
                    text = raw.decode("utf-8").rstrip("\n")
                except UnicodeDecodeError:
                    yield Quarantined(str(path), lineno, "invalid UTF-8", FORMAT)
                    continue
                yield RawRecord(lineno, text, text)


def normalize_kv(record: RawRecord) -> Normalized:
    pairs = dict(p.split("=", 1) for p in str(record.data).split() if "=" in p)
    if "t" not in pairs or not pairs["t"].isdigit():
        raise RecordError("no t= timestamp")
    ocsf = {
        "class_uid": 0,
        "time": int(pairs["t"]),
        "device": {"hostname": pairs.get("host")},
        "actor": {"user": {"name": pairs.get("user")}},
    }
    return Normalized(0, int(pairs["t"]), ocsf, pairs)


if FORMAT not in SOURCES:
    SOURCES.register(FORMAT)(KVSource)
    NORMALIZERS.register(FORMAT)(normalize_kv)


def write_kv(path: Path, lines: Sequence[str]) -> Path:
    path.write_text("#kv\n" + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


class WordDetector(Detector):
    """Fires on every event whose ``cmd`` field contains ``evil``; counts what it saw."""

    id = "test.word"
    name = "Word detector"

    def __init__(self) -> None:
        self.seen = 0

    def observe(self, events: Sequence[Event]) -> list[Finding]:
        self.seen += len(events)
        from garrison.core.entities import entities_of

        return [
            Finding(
                "test.word",
                "Word",
                "evil command",
                ev.time,
                4,
                90,
                [Evidence(ev.source_path, ev.record_id, ev.uid, ev.time)],
                entities=entities_of(ev.ocsf),
            )
            for ev in events
            if "evil" in str(ev.fields.get("cmd", ""))
        ]


def store_alerts(state: Any, index_path: Path, findings: Sequence[Finding]) -> Any:
    """Triage and correlate ``findings`` into ``state`` as a hunt would (default config)."""
    from garrison.correlate.service import AlertPipeline
    from garrison.triage.config import TriageConfig
    from garrison.triage.service import TriageService
    from garrison.triage.store import FindingStore

    cfg = TriageConfig()
    pipeline = AlertPipeline(cfg, TriageService(cfg, store=FindingStore(state)), state, index_path)
    return pipeline.process(findings)
