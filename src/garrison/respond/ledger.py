"""The response state in SQLite: runs, their steps, approvals and votes.

One run per (playbook, subject): a UNIQUE constraint, so the same trigger seen twice, by
two processes or after a restart, starts one run. One step row per idempotency key: a
step is claimed (``executing``) in a transaction before its connector is called, so two
resumptions cannot both claim it. Everything here is plain rows; ``engine`` decides.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from garrison.store.state import StateDB

DDL = """
CREATE TABLE IF NOT EXISTS respond_runs (
    id TEXT PRIMARY KEY,
    playbook TEXT NOT NULL,
    digest TEXT NOT NULL,
    source_text TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_uid TEXT NOT NULL,
    subject TEXT NOT NULL,
    mode TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (playbook, subject_kind, subject_uid)
);
CREATE TABLE IF NOT EXISTS respond_steps (
    run_id TEXT NOT NULL REFERENCES respond_runs(id),
    step TEXT NOT NULL,
    action TEXT NOT NULL,
    impact TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    reference TEXT NOT NULL DEFAULT '',
    approval_id TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, step)
);
CREATE INDEX IF NOT EXISTS respond_steps_action ON respond_steps(action, status, updated_at);
CREATE TABLE IF NOT EXISTS respond_approvals (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    step TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    action TEXT NOT NULL,
    impact TEXT NOT NULL,
    params TEXT NOT NULL,
    digest TEXT NOT NULL,
    quorum INTEGER NOT NULL,
    expires_at INTEGER,
    fallback TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    decided_at INTEGER,
    escalated_at INTEGER
);
CREATE TABLE IF NOT EXISTS respond_votes (
    approval_id TEXT NOT NULL REFERENCES respond_approvals(id),
    identity TEXT NOT NULL,
    decision TEXT NOT NULL,
    digest TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    at INTEGER NOT NULL,
    PRIMARY KEY (approval_id, identity)
);
CREATE TABLE IF NOT EXISTS respond_seen (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    digest TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (kind, name)
);
"""

#: Step states after which nothing more happens to the step.
FINAL = frozenset(
    {
        "succeeded",
        "failed",
        "skipped",
        "rejected",
        "expired",
        "refused",
        "shadow",
        "validated",
        "undone",
    }
)
#: Final states a ``when: {outcome: ...}`` reads as success or failure.
SUCCESS = frozenset({"succeeded", "validated", "shadow"})
FAILURE = frozenset({"failed", "rejected", "expired", "refused"})


@dataclass(frozen=True, slots=True)
class Run:
    id: str
    playbook: str
    digest: str
    source_text: str
    subject_kind: str
    subject_uid: str
    subject: dict[str, Any]
    mode: str
    status: str


@dataclass(frozen=True, slots=True)
class StepRow:
    run_id: str
    step: str
    action: str
    impact: str
    key: str
    params: dict[str, Any]
    status: str
    reason: str
    attempts: int
    reference: str
    approval_id: str | None


@dataclass(frozen=True, slots=True)
class ApprovalRow:
    id: str
    run_id: str
    step: str
    key: str
    action: str
    impact: str
    params: dict[str, Any]
    digest: str
    quorum: int
    expires_at: int | None
    fallback: str
    status: str
    reason: str
    created_at: int
    decided_at: int | None
    escalated_at: int | None


_RUN_COLS = "id, playbook, digest, source_text, subject_kind, subject_uid, subject, mode, status"
_STEP_COLS = (
    "run_id, step, action, impact, key, params, status, reason, attempts, reference, approval_id"
)
_APPROVAL_COLS = (
    "id, run_id, step, key, action, impact, params, digest, quorum, expires_at, fallback, "
    "status, reason, created_at, decided_at, escalated_at"
)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _run(r: tuple[Any, ...]) -> Run:
    return Run(
        id=str(r[0]),
        playbook=str(r[1]),
        digest=str(r[2]),
        source_text=str(r[3]),
        subject_kind=str(r[4]),
        subject_uid=str(r[5]),
        subject=json.loads(r[6]),
        mode=str(r[7]),
        status=str(r[8]),
    )


def _step(r: tuple[Any, ...]) -> StepRow:
    return StepRow(
        run_id=str(r[0]),
        step=str(r[1]),
        action=str(r[2]),
        impact=str(r[3]),
        key=str(r[4]),
        params=json.loads(r[5]),
        status=str(r[6]),
        reason=str(r[7]),
        attempts=int(r[8]),
        reference=str(r[9]),
        approval_id=None if r[10] is None else str(r[10]),
    )


def _approval(r: tuple[Any, ...]) -> ApprovalRow:
    return ApprovalRow(
        id=str(r[0]),
        run_id=str(r[1]),
        step=str(r[2]),
        key=str(r[3]),
        action=str(r[4]),
        impact=str(r[5]),
        params=json.loads(r[6]),
        digest=str(r[7]),
        quorum=int(r[8]),
        expires_at=_int_or_none(r[9]),
        fallback=str(r[10]),
        status=str(r[11]),
        reason=str(r[12]),
        created_at=int(r[13]),
        decided_at=_int_or_none(r[14]),
        escalated_at=_int_or_none(r[15]),
    )


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class Ledger:
    def __init__(self, state: StateDB) -> None:
        self.state = state
        state.ensure(DDL)

    # -- runs -------------------------------------------------------------------------------
    def start_run(self, run: Run, now: int) -> bool:
        """Record a new run; False when this playbook already handled this subject."""
        try:
            self.state.execute(
                f"INSERT INTO respond_runs ({_RUN_COLS}, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (*_run_values(run), now, now),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def handled(self, playbook: str) -> set[tuple[str, str]]:
        rows = self.state.query(
            "SELECT subject_kind, subject_uid FROM respond_runs WHERE playbook = ?", (playbook,)
        )
        return {(str(k), str(u)) for k, u in rows}

    def run(self, run_id: str) -> Run | None:
        rows = self.state.query(f"SELECT {_RUN_COLS} FROM respond_runs WHERE id = ?", (run_id,))
        return _run(rows[0]) if rows else None

    def open_runs(self) -> list[Run]:
        """Runs not done (waiting for an approval, or interrupted), oldest first."""
        rows = self.state.query(
            f"SELECT {_RUN_COLS} FROM respond_runs WHERE status != 'done' ORDER BY created_at, id"
        )
        return [_run(r) for r in rows]

    def set_run_status(self, run_id: str, status: str, now: int) -> None:
        self.state.execute(
            "UPDATE respond_runs SET status = ?, updated_at = ? WHERE id = ?",
            (status, now, run_id),
        )

    def runs(self) -> list[Run]:
        return [_run(r) for r in self.state.query(f"SELECT {_RUN_COLS} FROM respond_runs")]

    # -- steps ------------------------------------------------------------------------------
    def steps(self, run_id: str) -> dict[str, StepRow]:
        rows = self.state.query(
            f"SELECT {_STEP_COLS} FROM respond_steps WHERE run_id = ?", (run_id,)
        )
        return {str(r[1]): _step(r) for r in rows}

    def step_by_key(self, key: str) -> StepRow | None:
        rows = self.state.query(f"SELECT {_STEP_COLS} FROM respond_steps WHERE key = ?", (key,))
        return _step(rows[0]) if rows else None

    def executed(self, limit: int) -> list[StepRow]:
        """Steps that acted (succeeded, or undone since), most recently changed first."""
        rows = self.state.query(
            f"SELECT {_STEP_COLS} FROM respond_steps WHERE status IN ('succeeded', 'undone')"
            " ORDER BY updated_at DESC, key LIMIT ?",
            (max(1, limit),),
        )
        return [_step(r) for r in rows]

    def all_steps(self) -> list[StepRow]:
        return [_step(r) for r in self.state.query(f"SELECT {_STEP_COLS} FROM respond_steps")]

    def put_step(self, row: StepRow, now: int) -> None:
        self.state.execute(
            f"INSERT INTO respond_steps ({_STEP_COLS}, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(run_id, step) DO UPDATE SET params=excluded.params,"
            " status=excluded.status, reason=excluded.reason, attempts=excluded.attempts,"
            " reference=excluded.reference, approval_id=excluded.approval_id,"
            " updated_at=excluded.updated_at",
            (*_step_values(row), now),
        )

    def claim(self, key: str, now: int) -> bool:
        """Mark the step ``executing`` if it is ``planned`` or ``approved``: True for the one
        caller that wins it. A step already ``executing`` (a crash) is resumed by ``resume``."""
        with self.state.transaction() as conn:
            cur = conn.execute(
                "UPDATE respond_steps SET status = 'executing', attempts = attempts + 1,"
                " updated_at = ? WHERE key = ? AND status IN ('planned', 'approved')",
                (now, key),
            )
            return cur.rowcount == 1

    def recent(self, action: str, since: int, shadow: bool = False) -> int:
        """Executions of ``action`` started since ``since`` (ms), for its rate limit; with
        ``shadow``, the shadow steps that would have run count too (a replay's budget)."""
        extra = " OR (status = 'shadow' AND reason LIKE 'would run%')" if shadow else ""
        rows = self.state.query(
            "SELECT COUNT(*) FROM respond_steps WHERE action = ? AND updated_at >= ?"
            f" AND ((status IN ('executing', 'succeeded', 'failed') AND attempts > 0){extra})",
            (action, since),
        )
        return int(rows[0][0])  # type: ignore[call-overload]

    # -- approvals --------------------------------------------------------------------------
    def add_approval(self, row: ApprovalRow) -> None:
        self.state.execute(
            f"INSERT INTO respond_approvals ({_APPROVAL_COLS}) VALUES "
            "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            _approval_values(row),
        )

    def approval(self, approval_id: str) -> ApprovalRow | None:
        rows = self.state.query(
            f"SELECT {_APPROVAL_COLS} FROM respond_approvals WHERE id = ?", (approval_id,)
        )
        return _approval(rows[0]) if rows else None

    def approvals(self, status: str | None = None) -> list[ApprovalRow]:
        where, params = ("", ()) if status is None else ("WHERE status = ?", (status,))
        rows = self.state.query(
            f"SELECT {_APPROVAL_COLS} FROM respond_approvals {where} ORDER BY created_at, id",
            params,
        )
        return [_approval(r) for r in rows]

    def update_approval(self, approval_id: str, **changes: Any) -> None:
        allowed = {"params", "digest", "status", "reason", "decided_at", "escalated_at"}
        if not changes or set(changes) - allowed:
            raise ValueError(f"cannot change {sorted(set(changes) - allowed)} of an approval")
        values = [dumps(v) if k == "params" else v for k, v in changes.items()]
        sets = ", ".join(f"{k} = ?" for k in changes)
        self.state.execute(
            f"UPDATE respond_approvals SET {sets} WHERE id = ?", (*values, approval_id)
        )

    def add_vote(
        self, approval_id: str, identity: str, decision: str, digest: str, reason: str, now: int
    ) -> bool:
        """False when ``identity`` already voted on this approval."""
        try:
            self.state.execute(
                "INSERT INTO respond_votes VALUES (?,?,?,?,?,?)",
                (approval_id, identity, decision, digest, reason, now),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def votes(self, approval_id: str) -> list[tuple[str, str, str, str]]:
        """(identity, decision, digest, reason) of each vote, in order."""
        rows = self.state.query(
            "SELECT identity, decision, digest, reason FROM respond_votes"
            " WHERE approval_id = ? ORDER BY at, identity",
            (approval_id,),
        )
        return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]

    # -- what was seen (playbook and configuration digests) ---------------------------------
    def seen(self, kind: str, name: str) -> str | None:
        rows = self.state.query(
            "SELECT digest FROM respond_seen WHERE kind = ? AND name = ?", (kind, name)
        )
        return str(rows[0][0]) if rows else None

    def mark_seen(self, kind: str, name: str, digest: str, now: int) -> None:
        self.state.execute(
            "INSERT INTO respond_seen VALUES (?,?,?,?) ON CONFLICT(kind, name) DO UPDATE"
            " SET digest = excluded.digest, seen_at = excluded.seen_at",
            (kind, name, digest, now),
        )


def _run_values(run: Run) -> tuple[Any, ...]:
    return (
        run.id,
        run.playbook,
        run.digest,
        run.source_text,
        run.subject_kind,
        run.subject_uid,
        dumps(run.subject),
        run.mode,
        run.status,
    )


def _step_values(row: StepRow) -> tuple[Any, ...]:
    return (
        row.run_id,
        row.step,
        row.action,
        row.impact,
        row.key,
        dumps(row.params),
        row.status,
        row.reason,
        row.attempts,
        row.reference,
        row.approval_id,
    )


def _approval_values(row: ApprovalRow) -> tuple[Any, ...]:
    return (
        row.id,
        row.run_id,
        row.step,
        row.key,
        row.action,
        row.impact,
        dumps(row.params),
        row.digest,
        row.quorum,
        row.expires_at,
        row.fallback,
        row.status,
        row.reason,
        row.created_at,
        row.decided_at,
        row.escalated_at,
    )
