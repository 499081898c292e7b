"""The event lake: Parquet files partitioned by source and day, queried with DuckDB.

Exactly-once without a transaction manager: every batch has a content fingerprint, its
files have names derived from that fingerprint, each file is written under a temporary
name and renamed into place (atomic on POSIX), and the batch is marked committed in SQLite
last. A run killed at any point and started again rewrites the same names, so no event is
ever stored twice; the DuckDB view reads only files of committed batches, so a half-written
batch is never visible.
"""

from __future__ import annotations

import hashlib
import json
import os
import weakref
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from garrison.core.errors import storage_error
from garrison.core.events import Event
from garrison.core.timeutil import day_of, now_ms
from garrison.store.lock import WriterLock
from garrison.store.state import StateDB

EVENT_SCHEMA = pa.schema(
    [
        ("uid", pa.string()),
        ("class_uid", pa.int32()),
        ("time", pa.int64()),
        ("source_format", pa.string()),
        ("source_path", pa.string()),
        ("record_id", pa.int64()),
        ("batch_fp", pa.string()),
        ("ingested_at", pa.int64()),
        ("host", pa.string()),
        ("user", pa.string()),
        ("src_ip", pa.string()),
        ("dst_ip", pa.string()),
        ("ocsf", pa.string()),
        ("fields", pa.string()),
        ("raw", pa.string()),
    ]
)

_BATCHES_DDL = """
CREATE TABLE IF NOT EXISTS lake_batches (
    fingerprint TEXT PRIMARY KEY,
    source_format TEXT NOT NULL,
    source_path TEXT NOT NULL,
    events INTEGER NOT NULL,
    files TEXT NOT NULL,
    committed_at INTEGER NOT NULL
);
"""


def _dumps(value: Any) -> bytes:
    """Compact JSON as UTF-8 bytes (Arrow takes them as a string column without a decode);
    orjson for speed, the standard library for what orjson refuses (lone surrogates from
    undecodable input), ASCII-escaped so it is valid UTF-8 whatever the input."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, separators=(",", ":"), default=str, ensure_ascii=True).encode()


def _safe_text(value: str) -> str:
    """Text Parquet can hold. Undecodable bytes smuggled in as lone surrogates
    (``surrogateescape``) come back as ``\\xNN``, other lone surrogates as ``\\uXXXX``,
    instead of failing the whole batch."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_escape_surrogate(ch) for ch in value)
    return value


def _escape_surrogate(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:
        return f"\\u{code:04x}"
    return ch


def events_to_table(events: Sequence[Event]) -> pa.Table:
    """Columnar form of a batch: promoted entity columns plus the full OCSF/fields/raw."""
    hosts: list[str | None] = []
    users: list[str | None] = []
    src_ips: list[str | None] = []
    dst_ips: list[str | None] = []
    for ev in events:
        ocsf = ev.ocsf
        device = ocsf.get("device")
        actor = ocsf.get("actor")
        user = (actor.get("user") if actor.__class__ is dict else None) or ocsf.get("user")
        hosts.append(_member_text(device, "hostname"))
        users.append(_member_text(user, "name"))
        src_ips.append(_member_text(ocsf.get("src_endpoint"), "ip"))
        dst_ips.append(_member_text(ocsf.get("dst_endpoint"), "ip"))
    provs = [ev.provenance for ev in events]
    columns = [
        _text_array([ev.uid for ev in events]),
        pa.array([ev.class_uid for ev in events], pa.int32()),
        pa.array([ev.time for ev in events], pa.int64()),
        _text_array([p.source_format for p in provs]),
        _text_array([p.source_path for p in provs]),
        pa.array([p.record_id for p in provs], pa.int64()),
        _text_array([p.batch_fingerprint for p in provs]),
        pa.array([p.ingested_at for p in provs], pa.int64()),
        _text_array(hosts),
        _text_array(users),
        _text_array(src_ips),
        _text_array(dst_ips),
        pa.array([_dumps(ev.ocsf) for ev in events], pa.string()),
        pa.array([_dumps(ev.fields) for ev in events], pa.string()),
        _text_array([ev.raw for ev in events]),
    ]
    return pa.Table.from_arrays(columns, schema=EVENT_SCHEMA)


def _member_text(obj: Any, key: str) -> str | None:
    """``obj[key]`` as text when ``obj`` is an object holding it (OCSF from any normalizer
    may put anything anywhere: treated as untrusted shape)."""
    if obj.__class__ is not dict:
        return None
    value = obj.get(key)
    return None if value is None else value if value.__class__ is str else str(value)


def _text_array(values: list[str | None]) -> pa.Array:
    """A string column; text Parquet cannot hold (lone surrogates) is escaped item by item,
    only when the fast conversion refuses the column."""
    try:
        return pa.array(values, pa.string())
    except (UnicodeEncodeError, pa.ArrowException):
        return pa.array([None if v is None else _safe_text(v) for v in values], pa.string())


def _write_file(table: pa.Table, final: Path, written: list[Path]) -> None:
    """``table`` as ``final`` through a temporary name (the rename is atomic); every path
    created is appended to ``written`` as soon as it exists."""
    tmp = final.with_suffix(f".tmp{os.getpid()}")
    written.append(tmp)
    pq.write_table(table, tmp, compression="zstd")
    written.append(final)
    tmp.replace(final)


def _count_removed(before: pa.Table, after: pa.Table | None, removed: dict[str, int]) -> None:
    """Events per batch fingerprint in ``before`` but not in ``after`` added to ``removed``."""
    counts: dict[str, int] = defaultdict(int)
    for fp in before.column("batch_fp").to_pylist():
        counts[str(fp)] += 1
    if after is not None:
        for fp in after.column("batch_fp").to_pylist():
            counts[str(fp)] -= 1
    for fp, n in counts.items():
        if n:
            removed[fp] += n


class EventStore(ABC):
    """Where normalized events live. ``write_batch`` must be idempotent per fingerprint."""

    @abstractmethod
    def has_batch(self, fingerprint: str) -> bool: ...

    @abstractmethod
    def write_batch(
        self, fingerprint: str, source_format: str, source_path: str, events: Sequence[Event]
    ) -> int:
        """Store a batch once; returns how many events were newly written (0 if present)."""

    @abstractmethod
    def count(self) -> int: ...

    def flush(self) -> None:  # noqa: B027  - optional hook, nothing to do by default
        """Make every batch written so far durable and visible (stores that buffer)."""

    def close(self) -> None:
        """Flush, then free what the store holds (a writer's lock); idempotent."""
        self.flush()

    @abstractmethod
    def sql(self, query: str) -> list[tuple[Any, ...]]:
        """Run DuckDB SQL with the stored events visible as the view ``events``."""


#: Batches with fewer events than this (per partition) are not turned into an Arrow table
#: each: their events are held until SMALL_RUN of them (all partitions together) make one
#: table per partition. A table per one-line input file cost ~12 KB of allocator memory
#: until the flush (50,000 one-line files: ~1 GB, issue 18).
SMALL_RUN = 1024


class ParquetEventStore(EventStore):
    """The embedded default: ``ROOT/source=<fmt>/day=<yyyy-mm-dd>/<group>.parquet``.

    Batches are buffered as Arrow tables and written together (``flush_events`` events,
    ``flush_bytes`` of Arrow data - large Windows records are ~17 KB each as OCSF + fields +
    raw, so an event count alone would let the buffer reach gigabytes - or
    ``flush()``), one Parquet file per partition per flush group: a file per small input
    file would cost a Parquet footer and a catalog commit each (measured: ~1.3 ms per file,
    10x the parse cost on the EVTX samples). A group's file name is the hash of its batch
    fingerprints, and its batches are committed to the catalog in one transaction after
    the files are in place, so a crash loses only uncommitted batches, which the next run
    ingests again.

    One writer at a time: a writing store holds the lake's ``WriterLock`` from opening to
    ``close`` (or process exit), so a second hunt on the same home waits for the first
    (up to ``lock_wait`` seconds, ``None`` for as long as it takes) instead of deleting
    its uncommitted files or storing its batches again. Holding the lock is also what
    makes it safe to remove, when the store opens, the files no committed batch refers to:
    only a dead writer can have left them. ``writer=False`` opens the lake for queries
    only: no lock, nothing removed, ``write_batch`` refused.
    """

    def __init__(
        self,
        root: Path,
        state: StateDB,
        flush_events: int = 50_000,
        flush_bytes: int = 64 * 1024 * 1024,
        *,
        writer: bool = True,
        lock_wait: float | None = None,
    ) -> None:
        self.root = root
        self.state = state
        self.flush_events = max(1, flush_events)
        self.flush_bytes = max(1, flush_bytes)
        self.writer = writer
        self._buffered_bytes = 0
        self._pending: dict[str, tuple[str, str, int]] = {}
        self._tables: dict[tuple[str, str], list[pa.Table]] = defaultdict(list)
        #: Events of small batches, held until SMALL_RUN of them make one table.
        self._small: dict[tuple[str, str], list[Event]] = defaultdict(list)
        self._small_count = 0
        self._buffered = 0
        self._lock = WriterLock(root)
        if not writer:
            state.ensure(_BATCHES_DDL)
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise storage_error(exc, f"the event lake {root}") from exc
        self._lock.acquire(lock_wait)
        self._release = weakref.finalize(self, self._lock.release)
        state.ensure(_BATCHES_DDL)
        self._remove_orphans()

    def close(self) -> None:
        """Write what is buffered, then let the next writer in (the lock is also freed when
        the store is garbage-collected or the process ends)."""
        try:
            self.flush()
        finally:
            if self.writer:
                self._release()

    def _remove_orphans(self) -> None:
        """Delete what a writer that died left behind: its temporary files and the complete
        files whose batches it never committed (invisible, never queried). Called with the
        writer lock held, so no live writer can own any of them."""
        for tmp in self.root.glob("source=*/day=*/*.tmp*"):
            tmp.unlink(missing_ok=True)
        referenced = {str(p) for p in self.files()}
        for path in self.root.glob("source=*/day=*/*.parquet"):
            if str(path) not in referenced:
                path.unlink(missing_ok=True)

    def has_batch(self, fingerprint: str) -> bool:
        if fingerprint in self._pending:
            return True
        rows = self.state.query("SELECT 1 FROM lake_batches WHERE fingerprint = ?", (fingerprint,))
        return bool(rows)

    def write_batch(
        self, fingerprint: str, source_format: str, source_path: str, events: Sequence[Event]
    ) -> int:
        if not self.writer:
            raise RuntimeError("this lake was opened for queries only (writer=False)")
        if self.has_batch(fingerprint):
            return 0
        by_day: dict[str, list[Event]] = defaultdict(list)
        for ev in events:
            by_day[day_of(ev.time)].append(ev)
        safe_fmt = "".join(c if c.isalnum() or c in "-_" else "_" for c in source_format)
        for day, day_events in by_day.items():
            if len(day_events) < SMALL_RUN:
                self._small[(safe_fmt, day)].extend(day_events)
                self._small_count += len(day_events)
                # counted now by their raw text (most of a stored event), not again later
                self._buffered_bytes += sum(len(ev.raw) for ev in day_events)
                continue
            self._add_table((safe_fmt, day), day_events)
        if self._small_count >= SMALL_RUN:
            self._tables_from_small()
        self._pending[fingerprint] = (source_format, source_path, len(events))
        self._buffered += len(events)
        if self._buffered >= self.flush_events or self._buffered_bytes >= self.flush_bytes:
            self.flush()
        return len(events)

    def _add_table(
        self, key: tuple[str, str], events: Sequence[Event], counted: bool = False
    ) -> None:
        table = events_to_table(events)
        self._tables[key].append(table)
        if not counted:
            self._buffered_bytes += table.nbytes

    def _tables_from_small(self) -> None:
        """One table per partition for the events of small batches held so far."""
        for key, events in self._small.items():
            self._add_table(key, events, counted=True)
        self._small.clear()
        self._small_count = 0

    def flush(self) -> None:
        """Write the buffered batches and commit them (all or none of them) to the catalog."""
        if not self._pending:
            return
        self._tables_from_small()
        group = hashlib.sha256("\0".join(sorted(self._pending)).encode()).hexdigest()[:40]
        written: list[Path] = []
        # None of this group's files is committed on a failure (its batches were not, or
        # they would not be pending), so none is kept: a full disk leaves no partial file.
        with self._kept_only_on_success(written):
            files = [str(rel) for rel in self._write_group(group, written)]
            self._commit(json.dumps(files))
        self._pending.clear()
        self._tables.clear()
        self._buffered = 0
        self._buffered_bytes = 0

    def _write_group(self, group: str, written: list[Path]) -> list[Path]:
        """Write each partition's buffered tables as ``<group>.parquet`` (via a temporary
        name); every path created is appended to ``written`` as soon as it exists."""
        rels: list[Path] = []
        for (fmt, day), tables in sorted(self._tables.items()):
            rel = Path(f"source={fmt}") / f"day={day}" / f"{group}.parquet"
            final = self.root / rel
            final.parent.mkdir(parents=True, exist_ok=True)
            _write_file(pa.concat_tables(tables), final, written)
            rels.append(rel)
        return rels

    def _commit(self, listing: str) -> None:
        """Make the pending batches visible, all in one transaction."""
        with self.state.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO lake_batches VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (fp, fmt, path, n, listing, now_ms())
                    for fp, (fmt, path, n) in sorted(self._pending.items())
                ],
            )

    def replace_files(self, changes: Mapping[Path, pa.Table | None]) -> dict[str, int]:
        """Replace committed lake files by smaller tables (``None``: by nothing), all at
        once; returns the events removed per batch fingerprint.

        Privacy deletion and retention use this. The new tables are written under new
        names, then one catalog transaction points every batch at them and lowers its event
        count, then the old files are removed: a crash before the commit leaves the lake as
        it was (the new files are orphans, removed when a writer next opens the lake), one
        after it leaves only orphaned old files. A batch emptied this way keeps its catalog
        row (no file, no event), so the same input is not stored again by a later hunt."""
        if not self.writer:
            raise RuntimeError("this lake was opened for queries only (writer=False)")
        self.flush()
        committed = {str(p) for p in self.files()}
        removed: dict[str, int] = defaultdict(int)
        renamed: dict[str, str | None] = {}
        written: list[Path] = []
        with self._kept_only_on_success(written):
            for path, table in sorted(changes.items()):
                if str(path) not in committed:
                    raise ValueError(f"{path} is not a committed file of this lake")
                _count_removed(pq.read_table(path, columns=["batch_fp"]), table, removed)
                renamed[str(path.relative_to(self.root))] = self._write_replacement(
                    path, table, written
                )
            self._repoint(renamed, removed)
        for path in changes:
            path.unlink(missing_ok=True)
        return dict(removed)

    def _write_replacement(
        self, path: Path, table: pa.Table | None, written: list[Path]
    ) -> str | None:
        if table is None or table.num_rows == 0:
            return None
        digest = hashlib.sha256(path.name.encode() + os.urandom(16)).hexdigest()[:12]
        final = path.with_name(f"{path.stem[:40]}-r{digest}.parquet")
        _write_file(table, final, written)
        return str(final.relative_to(self.root))

    @contextmanager
    def _kept_only_on_success(self, written: list[Path]) -> Iterator[None]:
        """On any failure inside, remove every file in ``written`` (nothing was committed
        that points at them) and report a machine error as a ``StorageError``."""
        try:
            yield
        except BaseException as exc:
            for path in written:
                path.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise storage_error(exc, f"the event lake {self.root}") from exc
            raise

    def _repoint(self, renamed: dict[str, str | None], removed: dict[str, int]) -> None:
        """One transaction: every batch's file list rewritten, its event count lowered."""
        with self.state.transaction() as conn:
            rows = conn.execute("SELECT fingerprint, files, events FROM lake_batches").fetchall()
            for fp, files, events in rows:
                listing = json.loads(str(files))
                if not any(rel in renamed for rel in listing) and fp not in removed:
                    continue
                new = [renamed.get(rel, rel) for rel in listing]
                kept = json.dumps([rel for rel in new if rel is not None])
                left = max(0, int(events) - removed.get(str(fp), 0))
                conn.execute(
                    "UPDATE lake_batches SET files = ?, events = ? WHERE fingerprint = ?",
                    (kept, left, fp),
                )

    def files(self) -> list[Path]:
        """Files of committed batches (a flush group's files are shared by its batches)."""
        rows = self.state.query("SELECT DISTINCT files FROM lake_batches ORDER BY files")
        rels = sorted({rel for (files,) in rows for rel in json.loads(str(files))})
        return [self.root / rel for rel in rels]

    def count(self) -> int:
        self.flush()
        rows = self.state.query("SELECT COALESCE(SUM(events), 0) FROM lake_batches")
        return int(rows[0][0])  # type: ignore[call-overload]

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        self.flush()
        con = duckdb.connect()
        try:
            files = [str(p) for p in self.files()]
            if files:
                listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
                con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet([{listing}])")  # noqa: S608 - lake file names, quoted with '' doubling as a SQL literal
            else:
                con.register("events", EVENT_SCHEMA.empty_table())
            return con.execute(query).fetchall()
        finally:
            con.close()


class MemoryEventStore(EventStore):
    """In-memory twin: the same contract and the same DuckDB SQL, nothing on disk."""

    def __init__(self) -> None:
        self._batches: dict[str, pa.Table] = {}

    def has_batch(self, fingerprint: str) -> bool:
        return fingerprint in self._batches

    def write_batch(
        self, fingerprint: str, source_format: str, source_path: str, events: Sequence[Event]
    ) -> int:
        if fingerprint in self._batches:
            return 0
        self._batches[fingerprint] = events_to_table(events)
        return len(events)

    def count(self) -> int:
        return sum(t.num_rows for t in self._batches.values())

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        table = (
            pa.concat_tables(list(self._batches.values()))
            if self._batches
            else EVENT_SCHEMA.empty_table()
        )
        con = duckdb.connect()
        try:
            con.register("events", table)
            return con.execute(query).fetchall()
        finally:
            con.close()


__all__ = ["EVENT_SCHEMA", "EventStore", "MemoryEventStore", "ParquetEventStore", "events_to_table"]
