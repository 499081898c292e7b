"""What the machine does to the state database ends as a ``StorageError`` naming the file;
errors of the SQL itself reach the caller unchanged."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from garrison.core.errors import StorageError
from garrison.store import StateDB


def test_a_file_that_is_not_sqlite_is_named(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    db.write_bytes(b"this is not a database\n" * 100)
    with pytest.raises(StorageError, match="not a SQLite database") as caught:
        StateDB(db)
    assert str(db) in str(caught.value)


def test_a_home_that_is_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "home").write_text("x")
    with pytest.raises(StorageError, match="not a folder"):
        StateDB(tmp_path / "home" / "state.db")


def test_damaged_pages_are_named_when_read(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    state = StateDB(db)
    state.ensure("CREATE TABLE t (v TEXT)")
    with state.transaction() as conn:
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 500,) for _ in range(200)])
    state.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    state.close()
    raw = bytearray(db.read_bytes())
    raw[4096:] = b"\xa5" * (len(raw) - 4096)
    db.write_bytes(bytes(raw))
    reopened = StateDB(db)
    with pytest.raises(StorageError, match="damaged"):
        reopened.query("SELECT count(*), max(v) FROM t")


def test_sql_errors_are_not_disguised(tmp_path: Path) -> None:
    state = StateDB(tmp_path / "state.db")
    state.ensure("CREATE TABLE t (k TEXT PRIMARY KEY)")
    state.execute("INSERT INTO t VALUES ('a')")
    with pytest.raises(sqlite3.IntegrityError):
        state.execute("INSERT INTO t VALUES ('a')")
    with pytest.raises(sqlite3.OperationalError), state.transaction() as conn:
        conn.execute("SELECT nope FROM t")
    state.execute("INSERT INTO t VALUES ('b')")  # the failed transaction was rolled back
    assert state.query("SELECT count(*) FROM t") == [(2,)]
