"""What an analyst does after a hunt: verdicts, acknowledgement, merge, split, similar,
allowlists, tuning. The CLI and the API call this; it works on the SQLite state alone.

Every analyst decision wins over automation: a verdict on a finding re-scores it (a false
positive drops to 0, a true positive is lifted to at least High) and its incident is
rebuilt; merges and splits pin findings to the chosen incident so a re-run keeps them; a
new allowlist entry suppresses matching stored findings (except analyst true positives)
and rebuilds the incidents they were in.

Every decision is a privileged action: each writes one entry to the home's audit log
(``garrison.govern.audit``), which a caller may pass in (tests give the in-memory twin).
The entry's actor is the identity the caller authenticated and passed as ``actor`` (the CLI
passes the operating-system account, an API the signed-in user); ``analyst`` is the name the
analyst gave for the record and is kept beside it, never trusted as the identity.

Interfaces read through the typed queries here (``list_findings``, ``list_incidents``,
``allow_entries``), never with SQL of their own.

Authorization: every public method asks ``authorize(permission)`` first (the permission
table of ``govern.access``), so the CLI and the API get the same refusals; a refusal of an
audited method is audited too. ``open(config, identify)`` builds it from the principal the
interface authenticated (the CLI: ``cli_principal``; the API: the token's or session's).
Built directly, the workbench trusts its in-process caller (tests, code that holds the
state file anyway) unless it is given an ``authorize``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from garrison.core.config import GarrisonConfig
from garrison.core.errors import NotFound, UsageError
from garrison.core.incidents import Incident
from garrison.correlate.edit import merge, split
from garrison.correlate.embed import embed, features
from garrison.correlate.incident import build_incident
from garrison.correlate.service import INDEX_FILE
from garrison.correlate.similar import SimilarIndex
from garrison.correlate.store import IncidentQuery, IncidentStore
from garrison.govern.access import Principal, authorizer, in_process
from garrison.govern.audit import AuditLog, audit_for_state, audited, open_audit
from garrison.store.state import StateDB
from garrison.triage.config import TriageConfig, load_triage_config
from garrison.triage.feedback import Suggestion, rule_stats, tuning_suggestions
from garrison.triage.marks import DISPOSITIONS, set_disposition, triage_block
from garrison.triage.rules import RuleError, SuppressionRule
from garrison.triage.scoring import score_finding
from garrison.triage.service import active, config_rules
from garrison.triage.store import AllowEntry, FindingQuery, FindingStore

Authorize = Callable[[str], None]


def _actor(self: Workbench, *_args: Any, **_kwargs: Any) -> str | None:
    """The audit entry's actor: the identity the workbench was opened for."""
    return self.actor


class Workbench:
    def __init__(
        self,
        cfg: TriageConfig,
        state: StateDB,
        index_path: Path | None = None,
        audit: AuditLog | None = None,
        actor: str | None = None,
        authorize: Authorize = in_process,
    ) -> None:
        self.cfg = cfg
        #: Raises ``AccessDenied`` unless the caller may do the permission it is given.
        self.authorize = authorize
        self.state = state
        self.audit = audit if audit is not None else audit_for_state(state)
        #: Who acts, as authenticated by the caller; None: the operating-system account.
        self.actor = actor
        self.findings = FindingStore(state)
        self.incidents = IncidentStore(state)
        self._index_path = index_path
        self._index: SimilarIndex | None = None

    @classmethod
    def open(
        cls,
        config: GarrisonConfig,
        identify: Callable[[StateDB], Principal] | None = None,
        state: StateDB | None = None,
        actor: str | None = None,
    ) -> Workbench:
        """The workbench on the state under ``config.home`` (or ``state``), acting as the
        principal ``identify`` authenticates on it, with that principal's permissions
        (without ``identify``: trusted in-process code, audited as ``actor``)."""
        state = state if state is not None else StateDB(config.home / "state.db")
        audit = open_audit(config.home, state)
        triage = load_triage_config(config.raw, config.path)
        index = config.home / INDEX_FILE
        if identify is None:
            return cls(triage, state, index, audit, actor=actor)
        principal = identify(state)
        return cls(triage, state, index, audit, principal.name, authorizer(principal))

    @property
    def index(self) -> SimilarIndex:
        if self._index is None:
            self._index = SimilarIndex(self._index_path)
            stored = self.incidents.embeddings()
            self._index.load(stored, len(stored))
        return self._index

    # -- lookups ----------------------------------------------------------------------------
    # A read of an unknown id is ``NotFound`` (the API: 404); a decision naming one stays
    # the ``UsageError`` it always was (its audit entry says so, and the API answers 400).
    def finding_uid(self, prefix: str, missing: type[UsageError] = UsageError) -> str:
        uid = self.findings.find(prefix.strip())
        if uid is None:
            raise missing(f"no single stored finding matches {prefix!r}")
        return uid

    def incident_uid(self, prefix: str, missing: type[UsageError] = UsageError) -> str:
        uid = self.incidents.find(prefix.strip())
        if uid is None:
            raise missing(f"no single stored incident matches {prefix!r}")
        return uid

    def _incident(self, prefix: str, missing: type[UsageError] = UsageError) -> Incident:
        inc = self.incidents.get(self.incident_uid(prefix, missing))
        if inc is None:
            raise missing(f"incident {prefix!r} not found")
        return inc

    def incident(self, prefix: str) -> Incident:
        """The stored incident (its timeline, stages, explanation, enrichment, similar)."""
        self.authorize("incidents.read")
        return self._incident(prefix, NotFound)

    def incident_events(self, prefix: str) -> list[dict[str, Any]]:
        """What analysts did to the incident (status, verdicts, merges, assignments)."""
        self.authorize("incidents.read")
        return self.incidents.events(self.incident_uid(prefix, NotFound))

    def finding(self, prefix: str) -> dict[str, Any]:
        """The stored finding as OCSF (its evidences, entities, triage block)."""
        self.authorize("findings.read")
        return self.findings.load([self.finding_uid(prefix, NotFound)])[0].to_ocsf()

    def list_findings(self, status: str = "active", limit: int = 20) -> list[dict[str, Any]]:
        """Stored findings, highest risk first (``FindingStore.list``)."""
        self.authorize("findings.read")
        return self.findings.list(status=status, limit=limit)

    def search_findings(self, query: FindingQuery) -> list[dict[str, Any]]:
        """Stored findings matching ``query`` (status, band, detector, entity, time)."""
        self.authorize("findings.read")
        return self.findings.search(query)

    def list_incidents(self, status: str = "open", limit: int = 20) -> list[dict[str, Any]]:
        """Stored incidents, highest risk first (``IncidentStore.list``)."""
        self.authorize("incidents.read")
        return self.incidents.list(status=status, limit=limit)

    def search_incidents(self, query: IncidentQuery) -> list[dict[str, Any]]:
        """Stored incidents matching ``query`` (status, band, entity, time)."""
        self.authorize("incidents.read")
        return self.incidents.search(query)

    def allow_entries(self) -> list[AllowEntry]:
        """The stored allowlist entries (those of garrison.toml apply at every hunt too)."""
        self.authorize("findings.read")
        return self.findings.allow_entries()

    # -- verdicts and workflow --------------------------------------------------------------
    @audited(
        "finding.disposition",
        actor=_actor,
        target=lambda self, prefix, *a, **k: prefix,
        details=lambda self, prefix, disposition, note="", analyst="": {
            "verdict": disposition,
            "note": note,
            "analyst": analyst,
        },
        result=lambda r, *a, **k: r,
    )
    def dispose_finding(
        self, prefix: str, disposition: str, note: str = "", analyst: str = ""
    ) -> dict[str, Any]:
        self.authorize("findings.write")
        _check(disposition)
        uid = self.finding_uid(prefix)
        self.findings.add_disposition("finding", uid, disposition, note, analyst)
        finding = self.findings.load([uid])[0]
        set_disposition(finding, disposition)
        score_finding(finding)
        owner = self.incidents.membership().get(uid)
        triage_block(finding)["incident"] = owner
        self.findings.save([finding], "analyst")
        if owner:
            self.refresh([owner])
        return {"finding": uid, "risk_score": finding.risk_score, "incident": owner}

    @audited(
        "incident.disposition",
        actor=_actor,
        target=lambda self, prefix, *a, **k: prefix,
        details=lambda self, prefix, disposition, note="", analyst="", resolve=False: {
            "verdict": disposition,
            "note": note,
            "analyst": analyst,
            "resolve": resolve,
        },
        result=lambda uid, *a, **k: {"incident": uid},
    )
    def dispose_incident(
        self,
        prefix: str,
        disposition: str,
        note: str = "",
        analyst: str = "",
        resolve: bool = False,
    ) -> str:
        self.authorize("incidents.write")
        _check(disposition)
        uid = self.incident_uid(prefix)
        self.findings.add_disposition("incident", uid, disposition, note, analyst)
        self.incidents.set_verdict(uid, disposition, analyst, note)
        if resolve:
            self.incidents.set_status(uid, "resolved", analyst, note)
        return uid

    @audited(
        "incident.status",
        actor=_actor,
        target=lambda self, prefix, *a, **k: prefix,
        details=lambda self, prefix, status, analyst="", note="": {
            "status": status,
            "note": note,
            "analyst": analyst,
        },
        result=lambda uid, *a, **k: {"incident": uid},
    )
    def set_status(self, prefix: str, status: str, analyst: str = "", note: str = "") -> str:
        self.authorize("incidents.write")
        if status not in ("acknowledged", "resolved", "closed", "new"):
            raise UsageError(f"unknown status {status!r}")
        uid = self.incident_uid(prefix)
        self.incidents.set_status(uid, status, analyst, note)
        return uid

    @audited(
        "incident.assign",
        actor=_actor,
        target=lambda self, prefix, *a, **k: prefix,
        details=lambda self, prefix, assignee, analyst="": {
            "assignee": assignee,
            "analyst": analyst,
        },
        result=lambda uid, *a, **k: {"incident": uid},
    )
    def assign(self, prefix: str, assignee: str, analyst: str = "") -> str:
        """Give the incident to ``assignee`` (a registered user name, or "" to unassign);
        recorded in the incident's history, whose latest assignment is its owner."""
        self.authorize("incidents.write")
        uid = self.incident_uid(prefix)
        self.incidents.log(uid, "assign", assignee, analyst)
        return uid

    def effective_verdicts(self) -> dict[str, str]:
        """Finding uid -> verdict: the finding's own, else its incident's (the analyst's)."""
        own = {u: d.disposition for u, d in self.findings.dispositions("finding").items()}
        out: dict[str, str] = {}
        by_incident = {u: d.disposition for u, d in self.findings.dispositions("incident").items()}
        for finding, incident in self.incidents.membership().items():
            if incident in by_incident:
                out[finding] = by_incident[incident]
        out.update(own)
        return out

    # -- merge / split / refresh ------------------------------------------------------------
    @audited(
        "incident.merge",
        actor=_actor,
        target=lambda self, target, *a, **k: target,
        details=lambda self, target, others, analyst="": {
            "others": list(others),
            "analyst": analyst,
        },
        result=lambda inc, *a, **k: {"incident": inc.uid, "findings": len(inc.finding_uids)},
    )
    def merge(self, target: str, others: Sequence[str], analyst: str = "") -> Incident:
        self.authorize("incidents.write")
        keep = self._incident(target)
        rest = [self._incident(o) for o in others]
        rest = [o for o in rest if o.uid != keep.uid]
        if not rest:
            raise UsageError("give at least one other incident to merge")
        uids = set(self.incidents.members(keep.uid)).union(
            *(self.incidents.members(o.uid) for o in rest)
        )
        keep.finding_uids = sorted(uids)
        merged = merge(keep, rest, self.findings.load(uids), self.cfg.risk)
        self._save([merged], pin=list(uids))
        for o in rest:
            self.incidents.mark_merged(o.uid, keep.uid, analyst)
            ids = self.incidents.ids([o.uid])
            for key in ids.values():
                self.index.remove(key)
        self.index.save()
        self.incidents.log(keep.uid, "merge", ",".join(o.uid for o in rest), analyst)
        return merged

    @audited(
        "incident.split",
        actor=_actor,
        target=lambda self, prefix, *a, **k: prefix,
        details=lambda self, prefix, finding_prefixes, analyst="": {
            "findings": list(finding_prefixes),
            "analyst": analyst,
        },
        result=lambda pair, *a, **k: {"kept": pair[0].uid, "new": pair[1].uid},
    )
    def split(
        self, prefix: str, finding_prefixes: Sequence[str], analyst: str = ""
    ) -> tuple[Incident, Incident]:
        self.authorize("incidents.write")
        inc = self._incident(prefix)
        inc.finding_uids = self.incidents.members(inc.uid)
        take = [self.finding_uid(p) for p in finding_prefixes]
        kept, new = split(inc, self.findings.load(inc.finding_uids), take, self.cfg.risk)
        self._save([kept], pin=kept.finding_uids)
        self._save([new], pin=new.finding_uids)
        self.incidents.log(inc.uid, "split", new.uid, analyst)
        return kept, new

    def refresh(self, uids: Iterable[str]) -> list[Incident]:
        """Rebuild stored incidents from their stored findings (after verdicts, allowlists)."""
        out: list[Incident] = []
        for uid in dict.fromkeys(uids):
            old = self.incidents.get(uid)
            if old is None:
                continue
            members = self.findings.load(self.incidents.members(uid))
            live = active(members)
            if not live:
                self.incidents.set_status(uid, "suppressed", "", "no active findings left")
                continue
            inc = build_incident(live, self.cfg.risk, uid=uid)
            inc.status, inc.verdict, inc.similar = old.status, old.verdict, old.similar
            self._save([inc])
            out.append(inc)
        return out

    def _save(self, incidents: list[Incident], pin: list[str] | None = None) -> None:
        vectors = {i.uid: embed(i) for i in incidents}
        ids = self.incidents.save(incidents, "analyst", vectors)
        for inc in incidents:
            self.findings.set_incident(inc.finding_uids, inc.uid)
            if pin is not None:
                self.incidents.pin(inc.uid, pin)
            self.index.upsert(ids[inc.uid], vectors[inc.uid])
        self.index.save()

    # -- similar ----------------------------------------------------------------------------
    def similar(self, prefix: str, k: int = 5) -> list[dict[str, Any]]:
        self.authorize("incidents.read")
        inc = self._incident(prefix, NotFound)
        own = self.incidents.ids([inc.uid]).values()
        feats = features(inc)
        hits = self.index.search(embed(inc), k, own)
        rows = self.incidents.by_id(key for key, _ in hits)
        out = []
        for key, sim in hits:
            if key not in rows:
                continue
            row = rows[key]
            other = self.incidents.get(str(row["uid"]))
            shared = sorted(set(feats) & set(features(other))) if other else []
            out.append(
                {
                    "uid": row["uid"],
                    "title": row["title"],
                    "similarity": sim,
                    "risk_score": row["risk_score"],
                    "status": row["status"],
                    "verdict": row["verdict"],
                    "shared_features": shared[:10],
                }
            )
        return out

    # -- allowlist and tuning ---------------------------------------------------------------
    @audited(
        "allowlist.add",
        actor=_actor,
        target=lambda self, kind, value, *a, **k: f"{kind}:{value}",
        details=lambda self, kind, value, analytic="", reason="", analyst="": {
            "analytic": analytic,
            "reason": reason,
            "analyst": analyst,
        },
        result=lambda r, *a, **k: r,
    )
    def allow(
        self, kind: str, value: str, analytic: str = "", reason: str = "", analyst: str = ""
    ) -> dict[str, Any]:
        self.authorize("allowlist.write")
        try:
            rule = SuppressionRule.build({kind: value} if kind else {}, analytic, reason)
        except RuleError as exc:
            raise UsageError(str(exc)) from exc
        entry = self.findings.add_allow(rule, analyst)
        rules = config_rules(self.cfg) + [e.rule for e in self.findings.allow_entries()]
        suppressed = self.findings.reapply(rules)
        membership = self.incidents.membership()
        touched = {membership[u] for u in suppressed if u in membership}
        self.refresh(touched)
        return {
            "id": entry,
            "suppressed_findings": len(suppressed),
            "incidents_updated": len(touched),
        }

    @audited(
        "allowlist.remove",
        actor=_actor,
        target=lambda self, entry, *a, **k: f"#{entry}",
        details=lambda self, entry, *a, **k: {
            "rule": next(
                (e.rule.describe() for e in self.findings.allow_entries() if e.id == entry), None
            )
        },
        result=lambda removed, *a, **k: {"removed": removed},
    )
    def unallow(self, entry: int) -> bool:
        """Remove a stored allowlist entry (suppressed findings stay so until re-detected)."""
        self.authorize("allowlist.write")
        return self.findings.remove_allow(entry)

    def rule_stats(self) -> list[dict[str, Any]]:
        self.authorize("findings.read")
        stats = rule_stats(self.findings.rows(), self.effective_verdicts())
        return [s.to_json() for s in sorted(stats.values(), key=lambda s: -s.findings)]

    def tuning(self, min_count: int = 3) -> list[Suggestion]:
        self.authorize("findings.read")
        verdicts = self.effective_verdicts()
        rows = self.findings.rows()
        reviewed = {r["uid"] for r in rows if r["uid"] in verdicts}
        entities: dict[str, list[Any]] = {}
        for f in self.findings.load(sorted(reviewed)):
            entities[f.uid] = list(f.entities)
        return tuning_suggestions(rows, verdicts, entities, min_count=min_count)


def _check(disposition: str) -> None:
    if disposition not in DISPOSITIONS:
        raise UsageError(
            f"disposition must be one of {', '.join(DISPOSITIONS)}, not {disposition!r}"
        )
