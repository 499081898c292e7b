"""SQLite in WAL mode for state: batches, findings, incidents, approvals, registry, audit.

Each owner declares its tables with ``ensure``; ``StateDB.memory()`` is the in-memory twin
used by tests (the same SQL, no file).

What the machine does to the database - a file that is not SQLite, a damaged page, a full
disk, a folder where the file should be - ends as a ``StorageError`` naming the file and
what to do, wherever in a run it shows; errors of the SQL itself (constraints, syntax) are
left as they are for the caller.
"""

from __future__ import annotations

import errno
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from garrison.core.errors import StorageError

# primary SQLite result codes (the low byte of an extended code)
_IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 10, 11, 13, 14, 26
_NOT_A_FOLDER = (errno.EEXIST, errno.ENOTDIR)


def _storage_error(path: str, exc: sqlite3.Error) -> StorageError | None:
    """The ``StorageError`` for a SQLite error the machine caused, ``None`` for others."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF
    if primary in (_CORRUPT, _NOTADB):
        return StorageError(
            f"the state database {path} is damaged or is not a SQLite database ({exc}); "
            "move it aside to start afresh, or put back a copy"
        )
    if primary == _FULL:
        return StorageError(
            f"disk full while writing the state database {path} ({exc}); the transaction "
            "was rolled back: free some space and run again"
        )
    if primary in (_IOERR, _CANTOPEN):
        return StorageError(f"cannot use the state database {path}: {exc}")
    return None


class StateDB:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._ensured: set[str] = set()
        with self._mapped():
            if self.path != ":memory:":
                try:
                    Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    parent = Path(self.path).parent
                    why = "not a folder" if exc.errno in _NOT_A_FOLDER else exc.strerror or exc
                    raise StorageError(
                        f"cannot use the state database {self.path}: {parent}: {why}"
                    ) from exc
            self._conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")

    @contextmanager
    def _mapped(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            mapped = _storage_error(self.path, exc)
            if mapped is None:
                raise
            raise mapped from exc

    @classmethod
    def memory(cls) -> StateDB:
        return cls(":memory:")

    def ensure(self, ddl: str) -> None:
        """Create tables/indexes if they do not exist (idempotent DDL script); a script
        already run on this connection is not run again (services built per API request
        would otherwise rerun every owner's DDL on every request)."""
        if ddl in self._ensured:  # a set lookup: no need to wait for the lock to know
            return
        with self._lock, self._mapped():
            if ddl in self._ensured:
                return
            self._conn.executescript(ddl)
            self._ensured.add(ddl)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction (BEGIN IMMEDIATE ... COMMIT / ROLLBACK)."""
        with self._lock, self._mapped():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock, self._mapped():
            return list(self._conn.execute(sql, params).fetchall())

    def execute(self, sql: str, params: tuple[object, ...] = ()) -> None:
        with self._lock, self._mapped():
            self._conn.execute(sql, params)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
