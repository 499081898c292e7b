"""Triage state in SQLite: findings, their entities, analyst dispositions, stored allowlist.

Findings are upserted by uid (a detector gives the same uid to the same events, so a
re-run updates rather than duplicates); what an analyst decided is never overwritten by a
re-run. ``reapply`` re-evaluates stored findings against allowlist/exception rules, so an
entry added today also silences what was stored yesterday.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from garrison.core.entities import Entity, EntityKind
from garrison.core.errors import UsageError
from garrison.core.findings import Finding
from garrison.core.timeutil import now_ms
from garrison.store.state import StateDB
from garrison.triage.codec import finding_from_ocsf
from garrison.triage.enrich.enricher import criticality_of
from garrison.triage.marks import DISPOSITIONS, disposition_of, mark_suppressed, triage_block
from garrison.triage.noise import last_seen
from garrison.triage.rules import SuppressionRule
from garrison.triage.scoring import score_finding

#: What ``FindingStore.list`` filters on: a stored status, or ``all``.
FINDING_STATUSES = ("active", "suppressed", "all")

DDL = """
CREATE TABLE IF NOT EXISTS triage_findings (
    uid TEXT PRIMARY KEY,
    analytic_uid TEXT NOT NULL,
    analytic_name TEXT NOT NULL,
    analytic_type TEXT NOT NULL,
    title TEXT NOT NULL,
    time INTEGER NOT NULL,
    last_time INTEGER NOT NULL,
    severity_id INTEGER NOT NULL,
    confidence INTEGER NOT NULL,
    risk_score INTEGER NOT NULL,
    criticality TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    count INTEGER NOT NULL,
    incident_uid TEXT,
    run_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS triage_findings_analytic ON triage_findings(analytic_uid);
CREATE INDEX IF NOT EXISTS triage_findings_queue
    ON triage_findings(status, risk_score DESC, time, uid);
CREATE TABLE IF NOT EXISTS triage_finding_entities (
    finding_uid TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (finding_uid, kind, value)
);
CREATE INDEX IF NOT EXISTS triage_finding_entities_value ON triage_finding_entities(kind, value);
CREATE TABLE IF NOT EXISTS triage_dispositions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    uid TEXT NOT NULL,
    disposition TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    analyst TEXT NOT NULL DEFAULT '',
    time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS triage_dispositions_uid ON triage_dispositions(target, uid);
CREATE TABLE IF NOT EXISTS triage_allowlist (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    analytic TEXT NOT NULL DEFAULT '',
    match TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    added_by TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
"""


@dataclass(slots=True, frozen=True)
class FindingQuery:
    """What ``FindingStore.search`` filters on; ``None`` (or "") leaves a filter out.
    ``min_risk``/``max_risk`` bound the risk score (a band is a range of it); ``since`` and
    ``until`` bound the first event's time (ms epoch); ``entity`` is a value of any kind."""

    status: str = "active"
    min_risk: int | None = None
    max_risk: int | None = None
    detector: str = ""
    entity: str = ""
    since: int | None = None
    until: int | None = None
    limit: int = 50
    offset: int = 0


@dataclass(slots=True, frozen=True)
class Disposition:
    target: str
    uid: str
    disposition: str
    note: str
    analyst: str
    time: int


@dataclass(slots=True, frozen=True)
class AllowEntry:
    id: int
    rule: SuppressionRule
    created_at: int


class FindingStore:
    """Findings, dispositions and the stored allowlist, in the shared state database."""

    def __init__(self, state: StateDB) -> None:
        self.state = state
        state.ensure(DDL)

    # -- findings ---------------------------------------------------------------------------
    def save(self, findings: Sequence[Finding], run_id: str) -> None:
        """Upsert findings; a stored analyst verdict and creation time survive the update."""
        now = now_ms()
        with self.state.transaction() as conn:
            for f in findings:
                block = triage_block(f)
                doc = json.dumps(f.to_ocsf(), ensure_ascii=False, default=str)
                conn.execute(
                    """INSERT INTO triage_findings VALUES
                       (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                       ON CONFLICT(uid) DO UPDATE SET
                         title=excluded.title, last_time=excluded.last_time,
                         severity_id=excluded.severity_id, confidence=excluded.confidence,
                         risk_score=excluded.risk_score, criticality=excluded.criticality,
                         status=excluded.status, status_reason=excluded.status_reason,
                         count=excluded.count, incident_uid=excluded.incident_uid,
                         run_id=excluded.run_id, updated_at=excluded.updated_at,
                         doc=excluded.doc""",
                    (
                        f.uid,
                        f.analytic_uid,
                        f.analytic_name,
                        f.analytic_type,
                        f.title,
                        f.time,
                        last_seen(f),
                        f.severity_id,
                        f.confidence,
                        f.risk_score,
                        criticality_of(f),
                        str(block.get("status", "active")),
                        str(block.get("reason", "")),
                        f.count,
                        block.get("incident"),
                        run_id,
                        now,
                        now,
                        doc,
                    ),
                )
                conn.executemany(
                    "INSERT OR IGNORE INTO triage_finding_entities VALUES (?,?,?)",
                    [(f.uid, e.kind, e.value) for e in f.entities],
                )

    def set_incident(self, uids: Iterable[str], incident_uid: str | None) -> None:
        with self.state.transaction() as conn:
            conn.executemany(
                "UPDATE triage_findings SET incident_uid = ? WHERE uid = ?",
                [(incident_uid, u) for u in uids],
            )

    def load(self, uids: Iterable[str]) -> list[Finding]:
        out: list[Finding] = []
        for uid in dict.fromkeys(uids):
            rows = self.state.query("SELECT doc FROM triage_findings WHERE uid = ?", (uid,))
            if rows:
                out.append(finding_from_ocsf(json.loads(str(rows[0][0]))))
        return out

    def docs(self) -> builtins.list[tuple[str, dict[str, Any]]]:
        """Every stored finding as (uid, OCSF document), for a search over their content."""
        rows = self.state.query("SELECT uid, doc FROM triage_findings ORDER BY uid")
        return [(str(uid), json.loads(str(doc))) for uid, doc in rows]

    def forget(self, uids: Iterable[str], incidents: Iterable[str] = ()) -> int:
        """Remove findings with their entities and dispositions, and the dispositions of
        ``incidents`` (data-subject deletion); how many findings were stored."""
        rows = [(u,) for u in dict.fromkeys(uids)]
        with self.state.transaction() as conn:
            before = conn.total_changes
            conn.executemany("DELETE FROM triage_findings WHERE uid = ?", rows)
            gone = conn.total_changes - before
            conn.executemany("DELETE FROM triage_finding_entities WHERE finding_uid = ?", rows)
            conn.executemany(
                "DELETE FROM triage_dispositions WHERE target = 'finding' AND uid = ?", rows
            )
            conn.executemany(
                "DELETE FROM triage_dispositions WHERE target = 'incident' AND uid = ?",
                [(u,) for u in incidents],
            )
            conn.executemany(
                "UPDATE triage_findings SET incident_uid = NULL WHERE incident_uid = ?",
                [(u,) for u in incidents],
            )
        return gone

    def find(self, prefix: str) -> str | None:
        """The full uid of a finding given its uid or an unambiguous prefix (a full uid is
        one primary-key lookup; LIKE, which cannot use that index, only for a prefix)."""
        rows = self.state.query("SELECT uid FROM triage_findings WHERE uid = ?", (prefix,))
        if not rows:
            rows = self.state.query(
                "SELECT uid FROM triage_findings WHERE uid LIKE ? LIMIT 2", (prefix + "%",)
            )
        return str(rows[0][0]) if len(rows) == 1 else None

    def rows(self, where: str = "", params: tuple[object, ...] = ()) -> list[dict[str, Any]]:
        cols = (
            "uid, analytic_uid, analytic_name, analytic_type, title, time, last_time, "
            "severity_id, confidence, risk_score, criticality, status, status_reason, count, "
            "incident_uid, created_at"
        )
        names = [c.strip() for c in cols.split(",")]
        sql = f"SELECT {cols} FROM triage_findings {where}"  # noqa: S608 - clauses are constants from this package; values are bound
        return [dict(zip(names, r, strict=True)) for r in self.state.query(sql, params)]

    def list(self, status: str = "active", limit: int = 20) -> list[dict[str, Any]]:
        """Stored findings with ``status`` (``active``, ``suppressed`` or ``all``), highest
        risk first, at most ``limit`` (at least 1): the typed query interfaces use."""
        if status not in FINDING_STATUSES:
            raise UsageError(
                f"finding status must be one of {', '.join(FINDING_STATUSES)}, not {status!r}"
            )
        where, params = ("", ()) if status == "all" else ("WHERE status = ?", (status,))
        order = "ORDER BY risk_score DESC, time LIMIT ?"
        return self.rows(f"{where} {order}", (*params, max(1, limit)))

    def search(self, q: FindingQuery) -> builtins.list[dict[str, Any]]:
        """Stored findings matching ``q``, highest risk first (parameterised SQL only)."""
        if q.status not in FINDING_STATUSES:
            raise UsageError(
                f"finding status must be one of {', '.join(FINDING_STATUSES)}, not {q.status!r}"
            )
        clauses: builtins.list[str] = []
        params: builtins.list[object] = []
        checks: builtins.list[tuple[str, object]] = [
            ("status = ?", None if q.status == "all" else q.status),
            ("risk_score >= ?", q.min_risk),
            ("risk_score <= ?", q.max_risk),
            ("analytic_uid = ?", q.detector or None),
            ("time >= ?", q.since),
            ("time <= ?", q.until),
            (
                "uid IN (SELECT finding_uid FROM triage_finding_entities WHERE value = ?)",
                q.entity or None,
            ),
        ]
        for clause, value in checks:
            if value is not None:
                clauses.append(clause)
                params.append(value)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        order = "ORDER BY risk_score DESC, time, uid LIMIT ? OFFSET ?"
        return self.rows(f"{where} {order}", (*params, max(1, q.limit), max(0, q.offset)))

    # -- dispositions -----------------------------------------------------------------------
    def add_disposition(
        self, target: str, uid: str, disposition: str, note: str = "", analyst: str = ""
    ) -> Disposition:
        if disposition not in DISPOSITIONS:
            raise ValueError(f"disposition must be one of {', '.join(DISPOSITIONS)}")
        if target not in ("finding", "incident"):
            raise ValueError("target must be 'finding' or 'incident'")
        row = Disposition(target, uid, disposition, note, analyst, now_ms())
        self.state.execute(
            "INSERT INTO triage_dispositions (target, uid, disposition, note, analyst, time) "
            "VALUES (?,?,?,?,?,?)",
            (row.target, row.uid, row.disposition, row.note, row.analyst, row.time),
        )
        return row

    def dispositions(self, target: str | None = None) -> dict[str, Disposition]:
        """The latest disposition per uid (an analyst may change their mind)."""
        sql = "SELECT target, uid, disposition, note, analyst, time FROM triage_dispositions"
        params: tuple[object, ...] = ()
        if target:
            sql += " WHERE target = ?"
            params = (target,)
        latest: dict[str, Disposition] = {}
        for r in self.state.query(sql + " ORDER BY id", params):
            d = Disposition(str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), int(str(r[5])))
            latest[d.uid] = d
        return latest

    def apply_dispositions(self, findings: Iterable[Finding]) -> None:
        """Copy stored verdicts onto findings re-detected in this run (the analyst wins)."""
        known = self.dispositions("finding")
        for f in findings:
            if f.uid in known and not disposition_of(f):
                triage_block(f)["disposition"] = known[f.uid].disposition

    # -- allowlist --------------------------------------------------------------------------
    def add_allow(self, rule: SuppressionRule, added_by: str = "") -> int:
        with self.state.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO triage_allowlist (analytic, match, reason, added_by, created_at) "
                "VALUES (?,?,?,?,?)",
                (
                    rule.analytic,
                    json.dumps({c.kind: c.pattern for c in rule.conditions}),
                    rule.reason,
                    added_by,
                    now_ms(),
                ),
            )
            return int(cur.lastrowid or 0)

    def remove_allow(self, entry_id: int) -> bool:
        before = self.state.query("SELECT count(*) FROM triage_allowlist WHERE id = ?", (entry_id,))
        self.state.execute("DELETE FROM triage_allowlist WHERE id = ?", (entry_id,))
        return bool(before and int(str(before[0][0])))

    def allow_entries(self) -> builtins.list[AllowEntry]:
        out: list[AllowEntry] = []
        rows = self.state.query(
            "SELECT id, analytic, match, reason, created_at FROM triage_allowlist ORDER BY id"
        )
        for r in rows:
            kind = "exception" if r[1] else "allowlist"
            rule = SuppressionRule.build(
                json.loads(str(r[2])), str(r[1]), str(r[3]), origin=f"{kind} #{r[0]}"
            )
            out.append(AllowEntry(int(str(r[0])), rule, int(str(r[4]))))
        return out

    def reapply(self, rules: Sequence[SuppressionRule]) -> builtins.list[str]:
        """Mark stored active findings that ``rules`` match as suppressed; returns their uids.

        Findings an analyst called a true positive stay active: the analyst's verdict wins.
        """
        if not rules:
            return []
        tp = {u for u, d in self.dispositions("finding").items() if d.disposition == "tp"}
        entities: dict[str, list[Any]] = {}
        for uid, kind, value in self.state.query(
            "SELECT e.finding_uid, e.kind, e.value FROM triage_finding_entities e "
            "JOIN triage_findings f ON f.uid = e.finding_uid WHERE f.status = 'active'"
        ):
            entities.setdefault(str(uid), []).append((str(kind), str(value)))
        changed: list[tuple[str, str]] = []
        for uid, auid, aname in self.state.query(
            "SELECT uid, analytic_uid, analytic_name FROM triage_findings WHERE status='active'"
        ):
            if str(uid) in tp:
                continue
            ents = [Entity(cast(EntityKind, k), v) for k, v in entities.get(str(uid), [])]
            for rule in rules:
                if rule.matches(str(auid), str(aname), ents):
                    changed.append((rule.describe(), str(uid)))
                    break
        updates: list[tuple[object, ...]] = []
        for why, uid in changed:
            for finding in self.load([uid]):
                mark_suppressed(finding, why)
                score_finding(finding)
                doc = json.dumps(finding.to_ocsf(), ensure_ascii=False, default=str)
                updates.append((why, finding.risk_score, now_ms(), doc, uid))
        if updates:
            with self.state.transaction() as conn:
                conn.executemany(
                    "UPDATE triage_findings SET status='suppressed', status_reason=?, "
                    "risk_score=?, updated_at=?, doc=? WHERE uid=?",
                    updates,
                )
        return [uid for _, uid in changed]
