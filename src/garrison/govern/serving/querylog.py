"""The query log: every scored line, append-only, in ``HOME/guard/queries.db``.

One row per line: the client, the model, the time, the SHA-256 of the input (the input
itself only with ``[guard] log_inputs = true``: a scoring request may carry personal data),
the label and score answered, and the input's vector in the model's feature space (what the
extraction test reads back after a restart). Triggers refuse any UPDATE or DELETE, so the
log can only grow through Garrison; flags (clients judged extraction-like) are kept the same
way. A separate database from ``state.db``: scoring traffic never waits on a hunt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from garrison.store.state import StateDB

LOG_FILE = Path("guard") / "queries.db"

_DDL = """
CREATE TABLE IF NOT EXISTS guard_queries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    day INTEGER NOT NULL,
    client TEXT NOT NULL,
    model TEXT NOT NULL,
    input_sha256 TEXT NOT NULL,
    input TEXT,
    label TEXT NOT NULL,
    score REAL,
    vector BLOB
);
CREATE INDEX IF NOT EXISTS guard_queries_client_day ON guard_queries (client, day);
CREATE INDEX IF NOT EXISTS guard_queries_client_model ON guard_queries (client, model, seq);
CREATE TABLE IF NOT EXISTS guard_flags (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    client TEXT NOT NULL,
    model TEXT NOT NULL,
    finding TEXT NOT NULL,
    reason TEXT NOT NULL
);
"""


def _append_only(table: str, what: str) -> str:
    """Triggers refusing every UPDATE and DELETE on ``table``."""
    return "".join(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table}\n"
        f"BEGIN SELECT RAISE(ABORT, '{what} is append-only'); END;\n"
        for verb in ("UPDATE", "DELETE")
    )


_DDL += _append_only("guard_queries", "the query log") + _append_only("guard_flags", "the flag log")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Query:
    """One scored line as logged."""

    input: str
    label: str
    score: float | None
    vector: NDArray[np.float32] | None = None


@dataclass(frozen=True, slots=True)
class Flag:
    time: int
    client: str
    model: str
    finding: str
    reason: str


class QueryLog:
    def __init__(self, db: StateDB, keep_inputs: bool = False) -> None:
        self.db = db
        self.keep_inputs = keep_inputs
        db.ensure(_DDL)

    @classmethod
    def open(cls, home: Path, keep_inputs: bool = False) -> QueryLog:
        folder = home / LOG_FILE.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return cls(StateDB(home / LOG_FILE), keep_inputs)

    def append(self, client: str, model: str, time: int, day: int, queries: Sequence[Query]) -> int:
        """Log ``queries`` in one transaction; returns the sequence number of the first."""
        rows = [
            (
                time,
                day,
                client,
                model,
                digest(q.input),
                q.input if self.keep_inputs else None,
                q.label,
                q.score,
                None if q.vector is None else np.asarray(q.vector, np.float32).tobytes(),
            )
            for q in queries
        ]
        with self.db.transaction() as conn:
            first = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM guard_queries")
            start = int(first.fetchone()[0])
            conn.executemany(
                "INSERT INTO guard_queries (time, day, client, model, input_sha256, input,"
                " label, score, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return start

    def used(self, client: str, day: int) -> int:
        """Lines ``client`` had scored on ``day`` (every model)."""
        row = self.db.query(
            "SELECT COUNT(*) FROM guard_queries WHERE client = ? AND day = ?", (client, day)
        )
        return int(row[0][0])  # type: ignore[call-overload]

    def history(self, client: str, model: str, limit: int) -> list[tuple[str, NDArray[np.float32]]]:
        """The last ``limit`` (label, vector) of ``client`` on ``model``, oldest first."""
        rows = self.db.query(
            "SELECT label, vector FROM guard_queries WHERE client = ? AND model = ?"
            " AND vector IS NOT NULL ORDER BY seq DESC LIMIT ?",
            (client, model, limit),
        )
        out = [(str(label), np.frombuffer(bytes(blob), np.float32)) for label, blob in rows]  # type: ignore[call-overload]
        return out[::-1]

    def flag(self, flag: Flag) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO guard_flags (time, client, model, finding, reason)"
                " VALUES (?, ?, ?, ?, ?)",
                (flag.time, flag.client, flag.model, flag.finding, flag.reason),
            )

    def flags(self, client: str | None = None) -> list[Flag]:
        sql = "SELECT time, client, model, finding, reason FROM guard_flags"
        params: tuple[object, ...] = ()
        if client is not None:
            sql, params = sql + " WHERE client = ?", (client,)
        rows = self.db.query(sql + " ORDER BY seq", params)
        return [Flag(int(t), str(c), str(m), str(f), str(r)) for t, c, m, f, r in rows]  # type: ignore[call-overload]

    def close(self) -> None:
        self.db.close()
