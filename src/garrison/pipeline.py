"""The hunt: ingest -> normalize -> store -> detect -> triage -> correlate, in that order.

``HuntService`` wires the stages; interfaces build one and call ``run``. Nothing here knows
a format or a detector: those plug in through the registries in ``ingest``, ``normalize``
and ``detect``. Every record read is accounted for: it is stored as an event or quarantined
with a reason (``records_read == events_stored + records_quarantined``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import garrison.normalize.builtin  # noqa: F401  (registers the normalizers)
from garrison.core.config import GarrisonConfig
from garrison.core.errors import RecordError, UsageError
from garrison.core.events import Event, Provenance, Quarantined, RawRecord
from garrison.core.findings import Finding
from garrison.core.gctune import allocation_heavy
from garrison.core.incidents import Incident
from garrison.core.preflight import check_hunt_paths, input_exclusions
from garrison.core.serveconfig import load_serve_config
from garrison.core.timeutil import now_ms
from garrison.correlate.service import AlertPipeline
from garrison.detect import DETECTORS, Detector, DetectorContext
from garrison.detect.options import load_detector_options
from garrison.govern.privacy import Pseudonymizer, Vault, load_keys, load_privacy_config
from garrison.govern.serving.config import load_guard_config
from garrison.ingest.reader import (
    Batch,
    FileProblem,
    InputFile,
    batches,
    check_source_options,
    expand_inputs,
    open_source,
)
from garrison.normalize.base import NORMALIZERS, Normalized
from garrison.respond.config import load_response_config
from garrison.store.lake import EventStore, ParquetEventStore
from garrison.store.state import StateDB
from garrison.triage.config import load_triage_config

log = logging.getLogger(__name__)

ProgressHook = Callable[[str, int], None]


@dataclass(slots=True)
class SourceStats:
    files: int = 0
    records_read: int = 0
    events_stored: int = 0
    events_new: int = 0
    records_quarantined: int = 0
    bytes: int = 0

    def add(self, other: SourceStats) -> None:
        for name in SourceStats.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(slots=True)
class HuntReport:
    findings: list[Finding] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    quarantine: list[Quarantined] = field(default_factory=list)
    per_source: dict[str, SourceStats] = field(default_factory=dict)
    files_failed: list[FileProblem] = field(default_factory=list)
    files_read: int = 0
    detector_stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Triage and correlation figures: raw vs deduplicated findings, incidents, sizes, hubs.
    correlation: dict[str, Any] = field(default_factory=dict)
    detector_errors: dict[str, str] = field(default_factory=dict)
    rules_failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def total(self) -> SourceStats:
        total = SourceStats()
        for stats in self.per_source.values():
            total.add(stats)
        return total


def normalize_record(record: RawRecord, fmt: str) -> Normalized:
    """Map one record; every failure, even a bug in a mapper, becomes a ``RecordError``."""
    try:
        return NORMALIZERS.get(fmt)(record)
    except RecordError:
        raise
    except Exception as exc:  # a mapper must never crash the run on hostile input
        raise RecordError(_mapper_failure(fmt, exc)) from exc


def _mapper_failure(fmt: str, exc: Exception) -> str:
    return f"normalizer {fmt} failed: {type(exc).__name__}: {exc}"


def _normalizer_for(fmt: str) -> Callable[[RawRecord], Normalized]:
    """The format's normalizer; for a format without one (a batch of an unrecognised file
    holds only quarantine entries, but a plugin source may lack its normalizer) one that
    refuses every record with the reason, so the records are quarantined, not lost."""
    try:
        return NORMALIZERS.get(fmt)
    except UsageError as exc:
        reason = str(exc)

        def refuse(record: RawRecord) -> Normalized:
            raise RecordError(reason)

        return refuse


def build_events(batch: Batch, ingested_at: int) -> tuple[list[Event], list[Quarantined]]:
    events: list[Event] = []
    rejected: list[Quarantined] = list(batch.quarantined)
    fmt, path, fingerprint = batch.source_format, batch.source_path, batch.fingerprint
    normalizer = _normalizer_for(fmt)
    # Event uid: the batch's content fingerprint (which chains the previous batch's) and
    # the record's index in it. The index, not the position: positions repeat in merged
    # EVTX files (EventRecordIDs of several channels).
    uid_prefix = fingerprint[:20]
    for index, rec in enumerate(batch.records):
        try:
            norm = normalizer(rec)  # as normalize_record, with the lookup out of the loop
        except RecordError as exc:
            rejected.append(Quarantined(path, rec.position, str(exc), fmt, rec.text[:200]))
            continue
        except Exception as exc:  # a mapper must never crash the run on hostile input
            reason = _mapper_failure(fmt, exc)
            rejected.append(Quarantined(path, rec.position, reason, fmt, rec.text[:200]))
            continue
        prov = Provenance(path, fmt, rec.position, fingerprint, ingested_at)
        events.append(
            Event(
                f"{uid_prefix}{index:012x}",
                norm.class_uid,
                norm.time,
                norm.ocsf,
                norm.fields,
                rec.text,
                prov,
            )
        )
    return events, rejected


#: The engines ``hunt --engine`` names; only the embedded one is in this build.
ENGINES = ("embedded", "spark")


@dataclass(slots=True)
class HuntRequest:
    """What one hunt asks for on top of ``garrison.toml``: an interface's flags or fields.

    Rules folders and intel files add to those of ``[hunt]``; an asset inventory replaces
    the configured one. ``HuntService.for_request`` does the merging, so the CLI, the demo
    and the API hunt with the same inputs for the same request."""

    rules: Sequence[Path] = ()
    intel: Sequence[Path] = ()
    assets: Path | None = None
    engine: str = "embedded"
    #: The inputs and the results folder, when known: checked (exit 2) before any work, and
    #: the results folder and the home are left out of the input walk.
    inputs: Sequence[str] = ()
    out: Path | None = None


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise UsageError(f"--engine must be 'embedded' or 'spark', not {engine!r}")
    if engine != "embedded":
        raise UsageError("the spark engine is not available in this build; use --engine embedded")


class HuntService:
    """Runs a hunt over files with the configured detectors; returns a ``HuntReport``."""

    def __init__(
        self,
        config: GarrisonConfig,
        store: EventStore,
        state: StateDB,
        rules_dirs: Sequence[Path] = (),
        intel_files: Sequence[Path] = (),
        detectors: Sequence[Detector] | None = None,
        assets: Path | None = None,
    ) -> None:
        #: Every detector's typed options, checked before any work (exit 2 on a mistake).
        self.detector_options = self.check_config(config)
        self.config = config
        self.store = store
        self.state = state
        self.rules_dirs = list(rules_dirs)
        self.intel_files = list(intel_files)
        self._given_detectors = detectors
        #: folders never read as input (the home; the CLI adds --out): see core.preflight
        self.exclude = input_exclusions(config.home)
        self.alerts = AlertPipeline.build(config, state, assets, self.intel_files)
        self.pseudonymizer = self._pseudonymizer(config, state)

    @staticmethod
    def _pseudonymizer(config: GarrisonConfig, state: StateDB) -> Pseudonymizer | None:
        """The ``[privacy]`` pseudonymizer when fields are configured (the home's key is
        created on first use), else None: events are stored as normalized."""
        privacy = load_privacy_config(config.raw, config.path)
        if not privacy.pseudonymizes:
            return None
        keys = load_keys(config.home / "keys", create=True)
        if keys is None:  # create=True makes them or raises; never None
            raise RuntimeError("privacy keys were neither loaded nor created")
        return Pseudonymizer(privacy, keys, Vault(state, keys.vault_key))

    @staticmethod
    def check_config(config: GarrisonConfig) -> dict[str, Any]:
        """Every table of the configuration (sources, detectors, triage, correlation,
        response), checked by the one options loader before a hunt touches anything, so a
        misspelt key anywhere is found at once; returns the detectors' typed options.
        Raises ``OptionsError``."""
        check_source_options(config.ingest, config.path)
        load_triage_config(config.raw, config.path)
        load_response_config(config.raw, config.path)
        load_privacy_config(config.raw, config.path)
        load_serve_config(config.raw, config.path, env={})
        load_guard_config(config.raw, config.path)
        return load_detector_options(config)

    @classmethod
    def open(
        cls,
        config: GarrisonConfig,
        rules_dirs: Sequence[Path] = (),
        intel_files: Sequence[Path] = (),
        assets: Path | None = None,
    ) -> HuntService:
        """The embedded deployment: Parquet lake and SQLite state under ``config.home``.
        The configuration is checked before the home is touched."""
        cls.check_config(config)
        if config.hunt.bundled_rules:
            from garrison.content import bundled_rules_dir

            rules_dirs = [bundled_rules_dir(), *rules_dirs]
        state = StateDB(config.home / "state.db")
        store = ParquetEventStore(
            config.home / "lake", state, config.hunt.flush_events, lock_wait=config.hunt.lock_wait
        )
        return cls(
            config, store, state, rules_dirs=rules_dirs, intel_files=intel_files, assets=assets
        )

    @classmethod
    def for_request(cls, config: GarrisonConfig, request: HuntRequest) -> HuntService:
        """The embedded service for ``request`` merged over the configuration; a missing
        rules folder or an unknown engine is a usage error before any work."""
        _check_engine(request.engine)
        rules_dirs = [Path(p) for p in config.hunt.rules] + list(request.rules)
        for folder in rules_dirs:
            if not folder.exists():
                raise UsageError(f"--rules {folder}: no such file or directory")
        intel_files = [Path(p) for p in config.hunt.intel] + list(request.intel)
        configured = Path(config.hunt.assets) if config.hunt.assets else None
        assets = request.assets or configured
        cls.check_config(config)
        exclude: dict[Path, str] = {}
        if request.out is not None:
            exclude = check_hunt_paths(request.inputs, request.out, config.home).exclude
        service = cls.open(config, rules_dirs=rules_dirs, intel_files=intel_files, assets=assets)
        service.exclude.update(exclude)
        return service

    def build_detectors(self, report: HuntReport) -> list[Detector]:
        if self._given_detectors is not None:
            return list(self._given_detectors)
        disabled = set(self.config.detectors.disabled)
        built: list[Detector] = []
        for name, factory in DETECTORS.items():
            if name in disabled:
                continue
            ctx = DetectorContext(
                home=self.config.home,
                state=self.state,
                store=self.store,
                rules_dirs=self.rules_dirs,
                intel_files=self.intel_files,
                options=self.detector_options.get(name, {}),
            )
            try:
                detector = factory(ctx)
            except Exception as exc:
                report.detector_errors[name] = f"could not start: {type(exc).__name__}: {exc}"
                continue
            report.rules_failed.update(ctx.load_errors)
            if detector is not None:
                built.append(detector)
        return built

    def run(self, paths: list[str], progress: ProgressHook | None = None) -> HuntReport:
        with allocation_heavy():
            return self._run(paths, progress)

    def close(self) -> None:
        """Let the next writer into the lake and close the state (a process that ends does
        this anyway; a server that hunts per request must)."""
        try:
            self.store.close()
        finally:
            self.state.close()

    def run_files(self, files: list[InputFile]) -> HuntReport:
        """A hunt over files the caller names one by one, with no walk and no exclusion:
        for files Garrison spooled itself (an upload to the API under the home's
        ``spool/``), never for paths a user typed (``run`` checks those)."""
        with allocation_heavy():
            return self._run_files(files, [], None, time.perf_counter())

    def _run(self, paths: list[str], progress: ProgressHook | None) -> HuntReport:
        started = time.perf_counter()
        files, problems = expand_inputs(paths, self.exclude)
        return self._run_files(files, problems, progress, started)

    def _run_files(
        self,
        files: list[InputFile],
        problems: list[FileProblem],
        progress: ProgressHook | None,
        started: float,
    ) -> HuntReport:
        report = HuntReport()
        report.files_failed.extend(problems)
        detectors = self.build_detectors(report)
        seen_batches: set[str] = set()
        for file in files:
            if progress:
                progress(file.display, len(files))
            self._ingest_file(file, detectors, report, seen_batches)
        self.store.flush()
        for det in detectors:
            report.findings.extend(self._safe(det, report, det.finish))
            report.detector_stats[det.id] = det.stats()
        report.findings, report.incidents = self.alerts.process(report.findings)
        report.correlation = self.alerts.stats.to_json()
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _ingest_file(
        self, file: InputFile, detectors: list[Detector], report: HuntReport, seen_batches: set[str]
    ) -> None:
        try:
            source = open_source(file, self.config.ingest)
            size = file.path.stat().st_size
        except OSError as exc:
            report.files_failed.append(FileProblem(file.display, exc.strerror or str(exc)))
            return
        report.files_read += 1
        if source is None:  # empty file: nothing to read, nothing lost
            stats = report.per_source.setdefault("empty", SourceStats())
            stats.files += 1
            return
        stats = report.per_source.setdefault(source.format, SourceStats())
        stats.files += 1
        stats.bytes += size
        try:
            for batch in batches(source, file, self.config.hunt.batch_size):
                self._process_batch(batch, detectors, report, stats, seen_batches)
        except OSError as exc:
            report.files_failed.append(FileProblem(file.display, f"read failed: {exc}"))

    def _process_batch(
        self,
        batch: Batch,
        detectors: list[Detector],
        report: HuntReport,
        stats: SourceStats,
        seen_batches: set[str],
    ) -> None:
        stats.records_read += batch.size
        events, rejected = build_events(batch, now_ms())
        if self.pseudonymizer is not None:  # before anything stores or reads the events
            events = self.pseudonymizer.apply(events, batch.source_format)
            rejected = self.pseudonymizer.quarantined(rejected, batch.source_format)
        report.quarantine.extend(rejected)
        stats.records_quarantined += len(rejected)
        stats.events_stored += len(events)
        stats.events_new += self.store.write_batch(
            batch.fingerprint, batch.source_format, batch.source_path, events
        )
        if batch.fingerprint in seen_batches:
            return  # the same content twice in one run: stored once, detected once
        seen_batches.add(batch.fingerprint)
        for det in detectors:
            report.findings.extend(self._safe(det, report, partial(det.observe, events)))

    @staticmethod
    def _safe(
        det: Detector, report: HuntReport, call: Callable[[], list[Finding]]
    ) -> list[Finding]:
        """A detector bug is reported, never fatal to the run."""
        try:
            return list(call())
        except Exception as exc:
            log.exception("detector %s failed", det.id)
            report.detector_errors[det.id] = f"{type(exc).__name__}: {exc}"
            return []
