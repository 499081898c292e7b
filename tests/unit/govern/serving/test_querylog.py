"""The query log keeps a digest, not the input (unless told), and cannot be rewritten."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.govern.serving.querylog import Flag, Query, QueryLog, digest
from garrison.store.state import StateDB


def test_a_digest_is_logged_never_the_input_by_default(tmp_path: Path) -> None:
    log = QueryLog.open(tmp_path)
    log.append("ann", "dga", 5, 0, [Query("secret.example.com", "benign", 0.01)])
    rows = log.db.query(
        "SELECT client, model, input_sha256, input, label, score FROM guard_queries"
    )
    assert rows == [("ann", "dga", digest("secret.example.com"), None, "benign", 0.01)]
    assert b"secret.example.com" not in (tmp_path / "guard" / "queries.db").read_bytes()
    assert (tmp_path / "guard").stat().st_mode & 0o077 == 0


def test_inputs_are_kept_when_configured_and_vectors_come_back() -> None:
    log = QueryLog(StateDB.memory(), keep_inputs=True)
    v = np.arange(4, dtype=np.float32)
    log.append("ann", "dga", 5, 0, [Query("a.com", "benign", 0.1, v), Query("b.com", "x", None)])
    assert [r[0] for r in log.db.query("SELECT input FROM guard_queries")] == ["a.com", "b.com"]
    ((label, vector),) = log.history("ann", "dga", 10)
    assert label == "benign" and vector.tolist() == v.tolist()
    assert log.used("ann", 0) == 2 and log.used("ann", 1) == 0


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE guard_queries SET label = 'benign'",
        "DELETE FROM guard_queries",
        "UPDATE guard_flags SET reason = ''",
        "DELETE FROM guard_flags",
    ],
)
def test_the_logs_are_append_only(sql: str) -> None:
    log = QueryLog(StateDB.memory())
    log.append("ann", "dga", 5, 0, [Query("a.com", "malicious", 0.99)])
    log.flag(Flag(5, "ann", "dga", "f1", "coverage"))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        log.db.execute(sql)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=200), min_size=1, max_size=5), st.text(max_size=60))
def test_hostile_inputs_and_client_names_are_logged_as_data(inputs: list[str], client: str) -> None:
    log = QueryLog(StateDB.memory(), keep_inputs=True)
    log.append(client, "dga", 1, 0, [Query(text, "invalid", None) for text in inputs])
    assert [r[0] for r in log.db.query("SELECT input FROM guard_queries ORDER BY seq")] == inputs
    assert log.used(client, 0) == len(inputs)
