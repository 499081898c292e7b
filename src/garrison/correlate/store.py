"""Incidents in SQLite: documents, membership, lifecycle times, embeddings, analyst pins.

- ``incidents``: one row per incident (``id`` is the key in the similarity index), its
  OCSF document, workflow status and verdict, and the wall-clock times MTTA and MTTR are
  measured from (``created_at`` detection, ``acknowledged_at``, ``resolved_at``);
- ``incident_findings``: membership; ``pinned`` rows were set by an analyst (merge, split)
  and win over what correlation would compute on a re-run;
- ``incident_entities``: entity keys with the incident's last time, to find the open
  incident a new one continues;
- ``incident_events``: every analyst action, for the record.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from garrison.core.entities import Entity, EntityKind
from garrison.core.errors import UsageError
from garrison.core.incidents import Incident
from garrison.core.timeutil import now_ms
from garrison.store.state import StateDB

#: What ``IncidentStore.list`` filters on: a workflow status, ``open`` or ``all``.
INCIDENT_STATUSES = (
    "open",
    "new",
    "acknowledged",
    "resolved",
    "closed",
    "suppressed",
    "merged",
    "all",
)

DDL = """
CREATE TABLE IF NOT EXISTS incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    first_time INTEGER NOT NULL,
    last_time INTEGER NOT NULL,
    opened_at INTEGER NOT NULL,
    risk_score INTEGER NOT NULL,
    band TEXT NOT NULL,
    severity_id INTEGER NOT NULL,
    criticality TEXT NOT NULL,
    findings INTEGER NOT NULL,
    raw_findings INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    verdict TEXT NOT NULL DEFAULT '',
    merged_into TEXT NOT NULL DEFAULT '',
    run_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    acknowledged_at INTEGER,
    resolved_at INTEGER,
    doc TEXT NOT NULL,
    embedding BLOB
);
CREATE TABLE IF NOT EXISTS incident_findings (
    incident_uid TEXT NOT NULL,
    finding_uid TEXT NOT NULL,
    pinned INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (incident_uid, finding_uid)
);
CREATE INDEX IF NOT EXISTS incident_findings_finding ON incident_findings(finding_uid);
CREATE TABLE IF NOT EXISTS incident_entities (
    incident_uid TEXT NOT NULL,
    key TEXT NOT NULL,
    last_time INTEGER NOT NULL,
    PRIMARY KEY (incident_uid, key)
);
CREATE INDEX IF NOT EXISTS incident_entities_key ON incident_entities(key, last_time);
CREATE TABLE IF NOT EXISTS incident_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_uid TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    analyst TEXT NOT NULL DEFAULT '',
    time INTEGER NOT NULL
);
"""

OPEN_STATUSES = ("new", "acknowledged")
_COLUMNS = [
    "id",
    "uid",
    "title",
    "first_time",
    "last_time",
    "opened_at",
    "risk_score",
    "band",
    "severity_id",
    "criticality",
    "findings",
    "raw_findings",
    "status",
    "verdict",
    "merged_into",
    "run_id",
    "created_at",
    "updated_at",
    "acknowledged_at",
    "resolved_at",
]


def incident_from_ocsf(doc: dict[str, Any]) -> Incident:
    info = doc.get("finding_info") or {}
    unmapped = doc.get("unmapped") or {}
    verdicts = {1: "fp", 2: "tp", 5: "btp"}
    return Incident(
        title=str(info.get("title", "")),
        finding_uids=[str(x.get("uid")) for x in doc.get("finding_info_list") or []],
        first_time=int(info.get("first_seen_time", doc.get("time", 0)) or 0),
        last_time=int(info.get("last_seen_time", 0) or 0),
        risk_score=int(doc.get("risk_score", 0) or 0),
        severity_id=int(doc.get("severity_id", 0) or 0),
        entities=[
            Entity(cast(EntityKind, str(r.get("type"))), str(r.get("value")))
            for r in doc.get("resources") or []
            if isinstance(r, dict)
        ],
        tactics=[
            str((a.get("tactic") or {}).get("name", ""))
            for a in doc.get("attacks") or []
            if isinstance(a, dict)
        ],
        techniques=list(unmapped.get("techniques") or []),
        timeline=list(unmapped.get("timeline") or []),
        risk_parts={str(k): float(v) for k, v in (unmapped.get("risk_parts") or {}).items()},
        uid=str(info.get("uid", "")),
        status=str(doc.get("status", "New")).lower(),
        verdict=verdicts.get(int(doc.get("verdict_id", 0) or 0), ""),
        opened_at=int(unmapped.get("opened_at", 0) or 0),
        stages=list(unmapped.get("stages") or []),
        explanation=dict(unmapped.get("explanation") or {}),
        enrichment=dict(unmapped.get("enrichment") or {}),
        similar=list(unmapped.get("similar") or []),
        raw_findings=int(unmapped.get("raw_findings", 0) or 0),
        description=str(doc.get("desc", "")),
    )


@dataclass(slots=True, frozen=True)
class IncidentQuery:
    """What ``IncidentStore.search`` filters on; ``None`` (or "") leaves a filter out.
    ``band`` is a stored risk band (Critical, High...), ``entity`` an entity key
    (``kind:value``) or a bare value, ``since``/``until`` bound the first finding's time."""

    status: str = "open"
    band: str = ""
    entity: str = ""
    since: int | None = None
    until: int | None = None
    limit: int = 50
    offset: int = 0


class IncidentStore:
    def __init__(self, state: StateDB) -> None:
        self.state = state
        state.ensure(DDL)

    # -- write ------------------------------------------------------------------------------
    def save(
        self,
        incidents: Sequence[Incident],
        run_id: str,
        embeddings: dict[str, npt.NDArray[np.float32]] | None = None,
        pinned: bool = False,
    ) -> dict[str, int]:
        """Upsert incidents; returns uid -> row id. Status, verdict and times survive."""
        now = now_ms()
        ids: dict[str, int] = {}
        with self.state.transaction() as conn:
            for inc in incidents:
                vec = (embeddings or {}).get(inc.uid)
                blob = vec.astype(np.float32).tobytes() if vec is not None else None
                conn.execute(
                    """INSERT INTO incidents (uid, title, first_time, last_time, opened_at,
                         risk_score, band, severity_id, criticality, findings, raw_findings,
                         status, verdict, run_id, created_at, updated_at, doc, embedding)
                       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                       ON CONFLICT(uid) DO UPDATE SET
                         title=excluded.title, first_time=excluded.first_time,
                         last_time=excluded.last_time, opened_at=excluded.opened_at,
                         risk_score=excluded.risk_score, band=excluded.band,
                         severity_id=excluded.severity_id, criticality=excluded.criticality,
                         findings=excluded.findings, raw_findings=excluded.raw_findings,
                         run_id=excluded.run_id, updated_at=excluded.updated_at,
                         doc=excluded.doc,
                         embedding=coalesce(excluded.embedding, incidents.embedding)""",
                    (
                        inc.uid,
                        inc.title,
                        inc.first_time,
                        inc.last_time,
                        inc.opened_at,
                        inc.risk_score,
                        inc.band,
                        inc.severity_id,
                        str(inc.enrichment.get("criticality", "unknown")),
                        len(inc.finding_uids),
                        inc.raw_findings,
                        inc.status,
                        inc.verdict,
                        run_id,
                        now,
                        now,
                        json.dumps(inc.to_ocsf(), ensure_ascii=False, default=str),
                        blob,
                    ),
                )
                row = conn.execute("SELECT id FROM incidents WHERE uid = ?", (inc.uid,)).fetchone()
                ids[inc.uid] = int(row[0])
                keep = {
                    str(r[0])
                    for r in conn.execute(
                        "SELECT finding_uid FROM incident_findings "
                        "WHERE incident_uid = ? AND pinned = 1",
                        (inc.uid,),
                    )
                }
                conn.execute(
                    "DELETE FROM incident_findings WHERE incident_uid = ? AND pinned = 0",
                    (inc.uid,),
                )
                conn.executemany(
                    "INSERT OR IGNORE INTO incident_findings VALUES (?,?,?)",
                    [(inc.uid, u, int(pinned)) for u in inc.finding_uids if u not in keep],
                )
                conn.executemany(
                    "INSERT INTO incident_entities VALUES (?,?,?) ON CONFLICT DO UPDATE "
                    "SET last_time = max(last_time, excluded.last_time)",
                    [(inc.uid, e.key(), inc.last_time) for e in inc.entities],
                )
        return ids

    def log(self, uid: str, action: str, detail: str = "", analyst: str = "") -> None:
        self.state.execute(
            "INSERT INTO incident_events (incident_uid, action, detail, analyst, time) "
            "VALUES (?,?,?,?,?)",
            (uid, action, detail, analyst, now_ms()),
        )

    def set_status(self, uid: str, status: str, analyst: str = "", note: str = "") -> None:
        """Move an incident along new -> acknowledged -> resolved; times are kept once set."""
        now = now_ms()
        self.state.execute(
            "UPDATE incidents SET status = ?, updated_at = ?, "
            "acknowledged_at = coalesce(acknowledged_at, ?), "
            "resolved_at = CASE WHEN ? IN ('resolved', 'closed') "
            "  THEN coalesce(resolved_at, ?) ELSE resolved_at END WHERE uid = ?",
            (status, now, now, status, now, uid),
        )
        self._patch_doc(uid, status=status)
        self.log(uid, f"status:{status}", note, analyst)

    def set_verdict(self, uid: str, verdict: str, analyst: str = "", note: str = "") -> None:
        now = now_ms()
        self.state.execute(
            "UPDATE incidents SET verdict = ?, updated_at = ?, "
            "acknowledged_at = coalesce(acknowledged_at, ?) WHERE uid = ?",
            (verdict, now, now, uid),
        )
        self._patch_doc(uid, verdict=verdict)
        self.log(uid, f"verdict:{verdict}", note, analyst)

    def _patch_doc(self, uid: str, **changes: str) -> None:
        inc = self.get(uid)
        if inc is None:
            return
        for key, value in changes.items():
            setattr(inc, key, value)
        self.state.execute(
            "UPDATE incidents SET doc = ? WHERE uid = ?",
            (json.dumps(inc.to_ocsf(), ensure_ascii=False, default=str), uid),
        )

    def mark_merged(self, uid: str, into: str, analyst: str = "") -> None:
        self.state.execute(
            "UPDATE incidents SET status = 'merged', merged_into = ?, updated_at = ? WHERE uid = ?",
            (into, now_ms(), uid),
        )
        self._patch_doc(uid, status="merged")
        self.state.execute("DELETE FROM incident_findings WHERE incident_uid = ?", (uid,))
        self.log(uid, "merged", into, analyst)

    def pin(self, uid: str, finding_uids: Iterable[str]) -> None:
        """Make ``uid`` the analyst-chosen home of these findings (removing them elsewhere)."""
        uids = list(finding_uids)
        with self.state.transaction() as conn:
            conn.executemany(
                "DELETE FROM incident_findings WHERE finding_uid = ?", [(u,) for u in uids]
            )
            conn.executemany(
                "INSERT INTO incident_findings VALUES (?,?,1)", [(uid, u) for u in uids]
            )

    def delete(self, uid: str) -> None:
        with self.state.transaction() as conn:
            for table, col in (
                ("incident_findings", "incident_uid"),
                ("incident_entities", "incident_uid"),
                ("incidents", "uid"),
            ):
                conn.execute(f"DELETE FROM {table} WHERE {col} = ?", (uid,))  # noqa: S608 - table/column names and clauses are constants; values bound

    def forget(self, uids: Iterable[str]) -> int:
        """Remove incidents with their membership, entity keys and action history
        (data-subject deletion); their findings' links to them are cut. How many there were."""
        rows = [(u,) for u in dict.fromkeys(uids)]
        with self.state.transaction() as conn:
            before = conn.total_changes
            conn.executemany("DELETE FROM incidents WHERE uid = ?", rows)
            gone = conn.total_changes - before
            for table in ("incident_findings", "incident_entities", "incident_events"):
                sql = f"DELETE FROM {table} WHERE incident_uid = ?"  # noqa: S608 - constant names
                conn.executemany(sql, rows)
        return gone

    def docs(self) -> builtins.list[tuple[str, dict[str, Any]]]:
        """Every stored incident as (uid, OCSF document), for a search over their content."""
        rows = self.state.query("SELECT uid, doc FROM incidents ORDER BY uid")
        return [(str(uid), json.loads(str(doc))) for uid, doc in rows]

    # -- read -------------------------------------------------------------------------------
    def get(self, uid: str) -> Incident | None:
        rows = self.state.query("SELECT doc, status, verdict FROM incidents WHERE uid = ?", (uid,))
        if not rows:
            return None
        inc = incident_from_ocsf(json.loads(str(rows[0][0])))
        inc.status, inc.verdict = str(rows[0][1]), str(rows[0][2])
        return inc

    def find(self, prefix: str) -> str | None:
        """Full uid from a uid or an unambiguous prefix (``inc-3fa9``); follows merges."""
        # a full uid (what the API and console send) is one primary-key lookup; LIKE cannot
        # use that index (it ignores case), so it is only the fallback for a typed prefix
        rows = self.state.query("SELECT uid, merged_into FROM incidents WHERE uid = ?", (prefix,))
        if not rows:
            rows = self.state.query(
                "SELECT uid, merged_into FROM incidents WHERE uid LIKE ? LIMIT 2", (prefix + "%",)
            )
        if len(rows) != 1:
            return None
        uid, merged = str(rows[0][0]), str(rows[0][1])
        return self.find(merged) if merged else uid

    def row(self, uid: str) -> dict[str, Any] | None:
        rows = self.rows("WHERE uid = ?", (uid,))
        return rows[0] if rows else None

    def rows(self, where: str = "", params: tuple[object, ...] = ()) -> list[dict[str, Any]]:
        sql = f"SELECT {', '.join(_COLUMNS)} FROM incidents {where}"  # noqa: S608 - table/column names and clauses are constants; values bound
        return [dict(zip(_COLUMNS, r, strict=True)) for r in self.state.query(sql, params)]

    def members(self, uid: str) -> list[str]:
        return [
            str(r[0])
            for r in self.state.query(
                "SELECT finding_uid FROM incident_findings WHERE incident_uid = ?", (uid,)
            )
        ]

    def membership(self) -> dict[str, str]:
        """finding uid -> incident uid, for every stored incident."""
        return {
            str(f): str(i)
            for i, f in self.state.query("SELECT incident_uid, finding_uid FROM incident_findings")
        }

    def pinned_assignments(self, finding_uids: Iterable[str]) -> dict[str, str]:
        wanted = set(finding_uids)
        return {
            str(f): str(i)
            for i, f in self.state.query(
                "SELECT incident_uid, finding_uid FROM incident_findings WHERE pinned = 1"
            )
            if str(f) in wanted
        }

    def stored_status(self, uids: Iterable[str]) -> dict[str, tuple[str, str]]:
        out: dict[str, tuple[str, str]] = {}
        for uid in uids:
            rows = self.state.query("SELECT status, verdict FROM incidents WHERE uid = ?", (uid,))
            if rows:
                out[uid] = (str(rows[0][0]), str(rows[0][1]))
        return out

    def continued(self, inc: Incident, window_ms: int, skip_keys: set[str]) -> list[str]:
        """Open stored incidents (other than ``inc``) sharing an entity within the window."""
        found: dict[str, None] = {}
        for e in inc.entities:
            if e.key() in skip_keys:
                continue
            for (uid,) in self.state.query(
                "SELECT e.incident_uid FROM incident_entities e JOIN incidents i "
                "ON i.uid = e.incident_uid WHERE e.key = ? AND e.last_time >= ? "
                "AND e.last_time <= ? AND i.status IN ('new', 'acknowledged') "
                "AND i.uid != ?",
                (e.key(), inc.first_time - window_ms, inc.last_time, inc.uid),
            ):
                found[str(uid)] = None
        return list(found)

    def embeddings(self) -> list[tuple[int, npt.NDArray[np.float32]]]:
        return [
            (int(str(i)), np.frombuffer(cast(bytes, blob), dtype=np.float32))
            for i, blob in self.state.query(
                "SELECT id, embedding FROM incidents WHERE embedding IS NOT NULL "
                "AND status != 'merged'"
            )
        ]

    def ids(self, uids: Iterable[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for uid in uids:
            rows = self.state.query("SELECT id FROM incidents WHERE uid = ?", (uid,))
            if rows:
                out[uid] = int(str(rows[0][0]))
        return out

    def by_id(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        for i in ids:
            rows = self.rows("WHERE id = ?", (i,))
            if rows:
                out[i] = rows[0]
        return out

    def events(self, uid: str) -> builtins.list[dict[str, Any]]:
        """The incident's history (analyst actions), oldest first."""
        rows = self.state.query(
            "SELECT action, detail, analyst, time FROM incident_events WHERE incident_uid = ? "
            "ORDER BY time, id",
            (uid,),
        )
        names = ("action", "detail", "analyst", "time")
        return [dict(zip(names, r, strict=True)) for r in rows]

    def search(self, q: IncidentQuery) -> builtins.list[dict[str, Any]]:
        """Stored incidents matching ``q``, highest risk first (parameterised SQL only)."""
        where, params = self._status_filter(q.status)
        clauses, values = [where], list(params)
        checks: builtins.list[tuple[str, object]] = [
            ("band = ?", q.band or None),
            ("first_time >= ?", q.since),
            ("first_time <= ?", q.until),
            (
                "uid IN (SELECT incident_uid FROM incident_entities WHERE key = ? "
                "OR substr(key, instr(key, ':') + 1) = ?)",
                q.entity or None,
            ),
        ]
        for clause, value in checks:
            if value is not None:
                clauses.append(clause)
                values += [value] * clause.count("?")
        order = "ORDER BY risk_score DESC, first_time, uid LIMIT ? OFFSET ?"
        sql = "WHERE " + " AND ".join(clauses) + f" {order}"
        return self.rows(sql, (*values, max(1, q.limit), max(0, q.offset)))

    @staticmethod
    def _status_filter(status: str) -> tuple[str, tuple[object, ...]]:
        if status not in INCIDENT_STATUSES:
            raise UsageError(
                f"incident status must be one of {', '.join(INCIDENT_STATUSES)}, not {status!r}"
            )
        if status == "all":
            return "status != 'merged'", ()
        if status == "open":
            return "status IN ('new', 'acknowledged')", ()
        return "status = ?", (status,)

    def list(self, status: str = "open", limit: int = 20) -> builtins.list[dict[str, Any]]:
        """Stored incidents, highest risk first, at most ``limit`` (at least 1): the typed
        query interfaces use. ``status`` is a stored status, ``open`` (new or acknowledged)
        or ``all`` (everything but incidents merged into another)."""
        where, params = self._status_filter(status)
        order = "ORDER BY risk_score DESC, first_time LIMIT ?"
        return self.rows(f"WHERE {where} {order}", (*params, max(1, limit)))
