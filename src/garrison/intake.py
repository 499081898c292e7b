"""Ingestion over the API: an upload or a JSON-lines push goes the way a file given to
``garrison hunt`` goes — sniffed, parsed, normalized, validated, quarantined with its
reason, stored, detected, triaged, correlated — and nothing is lost on the way.

    service = IntakeService(config, authorize, actor="ann")
    report = service.ingest("fw-2026-12-07.jsonl", body)
    assert report.records_read == report.events_stored + report.records_quarantined

The body is first written whole to the home's ``spool/`` (content-addressed, fsync'd,
renamed into place), so what was received is kept until a hunt has read it; the same
body pushed twice is the same spool file, and the lake stores its batches once. Each
upload keeps the hunt's own result files beside it (``findings.jsonl``,
``incidents.jsonl``, ``quarantine.jsonl``, ``summary.json``): a quarantined line is never
only a count. Every upload is audited with the identity that sent it (its SHA-256 and
counts, never its content).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from garrison.core.config import GarrisonConfig
from garrison.core.errors import UsageError, storage_error
from garrison.core.memory import release_free_memory
from garrison.govern.audit import open_audit
from garrison.ingest.reader import InputFile
from garrison.outputs import write_outputs
from garrison.pipeline import HuntReport, HuntRequest, HuntService
from garrison.store.state import StateDB

SPOOL = "spool"
#: Every upload's hunt runs on this one thread, one at a time (the lake's writer lock also
#: makes other threads and processes wait their turn). On one thread because a hunt
#: allocates and frees a few hundred MB, and the
#: C allocator keeps freed memory in the arena of the thread that allocated it; hunts run
#: on whichever request thread came next left a hunt-sized heap in one arena after another,
#: and a server under reads and uploads grew by ~35 % in 10 minutes (bench/bench_soak.py).
_HUNTER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="garrison-intake")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: Quarantine reasons returned in the answer (the whole list is in quarantine.jsonl).
SAMPLE = 20


@dataclass(frozen=True, slots=True)
class IntakeReport:
    upload: str  # the spool id: the first 24 hex of the body's SHA-256
    bytes: int
    records_read: int
    events_stored: int
    events_new: int
    records_quarantined: int
    findings: int
    incidents: int
    files_failed: list[str]
    quarantine_sample: list[dict[str, Any]]

    @property
    def conserved(self) -> bool:
        return self.records_read == self.events_stored + self.records_quarantined

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "conserved": self.conserved}


def safe_name(name: str) -> str:
    """A file name for the spool: letters, digits, ``._-`` only, at most 100 characters."""
    cleaned = _UNSAFE.sub("_", name.strip()).strip("._")[:100]
    return cleaned or "upload"


class IntakeService:
    def __init__(
        self, config: GarrisonConfig, authorize: Callable[[str], None], actor: str | None = None
    ) -> None:
        self.config, self.authorize, self.actor = config, authorize, actor

    def ingest(self, name: str, body: bytes) -> IntakeReport:
        """Spool ``body`` and hunt it; an empty body is a usage error (400)."""
        self.authorize("ingest.write")
        if not body:
            raise UsageError("the body is empty: nothing to ingest")
        digest = hashlib.sha256(body).hexdigest()
        folder = self.config.home / SPOOL / digest[:24]
        path = folder / safe_name(name)
        _spool(path, body)
        return _HUNTER.submit(self._hunt, path, digest, len(body)).result()

    def _hunt(self, path: Path, digest: str, size: int) -> IntakeReport:
        service = HuntService.for_request(self.config, HuntRequest())
        try:
            hunt = service.run_files([InputFile(path, path.name)])
            write_outputs(hunt, path.parent / "results")
            report = _report_of(hunt, digest, size)
            self._audit(service.state, digest, report)  # the hunt's own state: no reopen
        finally:
            service.close()
            del service
            release_free_memory()
        return report

    def _audit(self, state: StateDB, digest: str, report: IntakeReport) -> None:
        open_audit(self.config.home, state).append(
            "ingest.upload",
            report.upload,
            "ok" if report.conserved else "error:not-conserved",
            {
                "sha256": digest,
                "bytes": report.bytes,
                "records_read": report.records_read,
                "events_stored": report.events_stored,
                "records_quarantined": report.records_quarantined,
                "findings": report.findings,
            },
            self.actor,
        )


def _report_of(hunt: HuntReport, digest: str, size: int) -> IntakeReport:
    total = hunt.total()
    return IntakeReport(
        upload=digest[:24],
        bytes=size,
        records_read=total.records_read,
        events_stored=total.events_stored,
        events_new=total.events_new,
        records_quarantined=total.records_quarantined,
        findings=len(hunt.findings),
        incidents=len(hunt.incidents),
        files_failed=[f"{p.display}: {p.reason}" for p in hunt.files_failed],
        quarantine_sample=[q.to_json() for q in hunt.quarantine[:SAMPLE]],
    )


def _spool(path: Path, body: bytes) -> None:
    """Write ``body`` to ``path`` whole or not at all (a temporary file, fsync, rename)."""
    if path.is_file() and path.stat().st_size == len(body):
        return  # the same content (the folder is named by its digest): already spooled
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tmp.open("wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise storage_error(exc, f"the upload spool {path.parent}") from exc
