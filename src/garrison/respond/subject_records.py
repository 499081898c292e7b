"""The response ledger's records of a data subject, for ``garrison privacy export|delete``.

A run that disabled ``alice`` or mailed about her keeps her name in its rows: the run's
subject and playbook text, each step's parameters, reason and receipt reference, each
approval's parameters and reason, each vote's reason. Export lists every such row;
deletion *scrubs* them - each whole-word occurrence in a text or JSON leaf becomes
``[erased]`` - and keeps the ledger's structure: run ids, idempotency keys, statuses and
digests stay, so exactly-once still holds for every key.

Some rows are kept, counted with the reason:

* ``in progress``: every row of a run not ``done`` (waiting for an approval, or running):
  an approval to disable ``alice`` must not silently become an approval to disable
  ``[erased]``; finish or reject it, then delete again;
* ``action in effect``: a ``succeeded`` step of an undoable action (the block, the
  disabled account): its undo sends the step's parameters back to the connector, which
  must still name the account; undo it, then delete again;
* ``approver identity``: a vote cast by an analyst whose name is the subject keeps the
  identity (who approved a disruptive action is accountability, like the audit log's
  actors); its reason is scrubbed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from garrison.correlate.subject_records import RecordCounts, scrub_leaves, scrub_text
from garrison.govern.privacy import Matcher
from garrison.respond.actions import ACTIONS
from garrison.respond.ledger import Ledger, dumps
from garrison.store.state import StateDB

NAME = "respond_ledger"
IN_PROGRESS = "in progress"
IN_EFFECT = "action in effect (undo it first)"
APPROVER = "approver identity (accountability)"


@dataclass(frozen=True, slots=True)
class _Table:
    """One ledger table as searched: the row's identity, what is scrubbed, what only read."""

    record: str
    table: str
    select: str  # returns the key columns, then ``run_id``, then the rest, named in ``cols``
    cols: tuple[str, ...]
    keys: tuple[str, ...]
    texts: tuple[str, ...] = ()
    jsons: tuple[str, ...] = ()
    #: Searched (and exported) but never changed.
    read_only: tuple[str, ...] = ()


_TABLES = (
    _Table(
        "run",
        "respond_runs",
        "SELECT id, id, playbook, status, mode, subject_kind, subject_uid, subject, source_text"
        " FROM respond_runs ORDER BY created_at, id",
        (
            "id",
            "run_id",
            "playbook",
            "status",
            "mode",
            "subject_kind",
            "subject_uid",
            "subject",
            "source_text",
        ),
        keys=("id",),
        texts=("source_text",),
        jsons=("subject",),
    ),
    _Table(
        "step",
        "respond_steps",
        "SELECT key, run_id, step, action, status, params, reason, reference"
        " FROM respond_steps ORDER BY run_id, updated_at, step",
        ("key", "run_id", "step", "action", "status", "params", "reason", "reference"),
        keys=("key",),
        texts=("reason", "reference"),
        jsons=("params",),
    ),
    _Table(
        "approval",
        "respond_approvals",
        "SELECT id, run_id, step, action, status, params, reason"
        " FROM respond_approvals ORDER BY created_at, id",
        ("id", "run_id", "step", "action", "status", "params", "reason"),
        keys=("id",),
        texts=("reason",),
        jsons=("params",),
    ),
    _Table(
        "vote",
        "respond_votes",
        "SELECT v.approval_id, v.identity, a.run_id, v.decision, v.reason"
        " FROM respond_votes v LEFT JOIN respond_approvals a ON a.id = v.approval_id"
        " ORDER BY v.approval_id, v.at, v.identity",
        ("approval_id", "identity", "run_id", "decision", "reason"),
        keys=("approval_id", "identity"),
        texts=("reason",),
        read_only=("identity",),
    ),
)


@dataclass(frozen=True, slots=True)
class _Hit:
    table: _Table
    row: dict[str, Any]  # JSON columns parsed


class LedgerRecords:
    """The ``SubjectRecords`` of the response ledger (``respond_*`` tables in state.db)."""

    name = NAME

    def __init__(self, state: StateDB) -> None:
        self.state = state
        Ledger(state)  # the tables exist (empty in a home that never responded)

    def find(self, matcher: Matcher) -> list[dict[str, Any]]:
        hits = _hits(self.state.query, matcher)
        return [{"record": h.table.record, **h.row} for h in hits]

    def forget(self, matcher: Matcher, replacement: str, apply: bool) -> dict[str, Any]:
        """Scrub the rows of finished runs (with ``apply``): read and written in one
        transaction, so a run that moves on meanwhile is seen either before or after. A dry
        run only reads."""
        if not apply:
            return _judge(self.state.query, matcher, None, replacement).to_json()
        with self.state.transaction() as conn:
            return _judge(conn.execute, matcher, conn, replacement).to_json()


Query = Callable[[str], Iterable[Sequence[Any]]]


def _judge(
    query: Query, matcher: Matcher, conn: sqlite3.Connection | None, replacement: str
) -> RecordCounts:
    """Count every row naming the person as scrubbed or kept (with why); scrub through
    ``conn`` when one is given."""
    counts = RecordCounts(applied=conn is not None)
    done = {str(r[0]) for r in query("SELECT id FROM respond_runs WHERE status = 'done'")}
    for hit in _hits(query, matcher):
        counts.found += 1
        why = _kept(hit, done, matcher)
        if why:
            counts.keep(why)
        else:
            counts.scrubbed += 1
        if conn is not None and why in ("", APPROVER):  # a vote's reason: scrubbed all the same
            _scrub(conn, hit, matcher, replacement)
    return counts


def _hits(query: Query, matcher: Matcher) -> list[_Hit]:
    hits: list[_Hit] = []
    for table in _TABLES:
        for values in query(table.select):
            row = dict(zip(table.cols, values, strict=True))
            for col in table.jsons:
                row[col] = json.loads(row[col])
            searched = (*table.texts, *table.jsons, *table.read_only)
            if any(matcher.in_leaves(row[c]) for c in searched):
                hits.append(_Hit(table, row))
    return hits


def _kept(hit: _Hit, done: set[str], matcher: Matcher) -> str:
    """Why the row must keep the value ('' when it is scrubbed)."""
    row = hit.row
    if row["run_id"] is not None and row["run_id"] not in done:
        return IN_PROGRESS
    if (
        hit.table.record == "step"
        and row["status"] == "succeeded"
        and row["action"] in ACTIONS
        and ACTIONS.get(row["action"]).undoable
    ):
        return IN_EFFECT
    if any(matcher.search(str(row[c])) for c in hit.table.read_only):
        return APPROVER
    return ""


def _scrub(conn: sqlite3.Connection, hit: _Hit, matcher: Matcher, replacement: str) -> None:
    table, row = hit.table, hit.row
    values: list[Any] = [scrub_text(str(row[c]), matcher, replacement) for c in table.texts]
    values += [dumps(scrub_leaves(row[c], matcher, replacement)) for c in table.jsons]
    sets = ", ".join(f"{c} = ?" for c in (*table.texts, *table.jsons))
    where = " AND ".join(f"{k} = ?" for k in table.keys)
    conn.execute(
        f"UPDATE {table.table} SET {sets} WHERE {where}",  # noqa: S608 - constant names
        (*values, *(row[k] for k in table.keys)),
    )
