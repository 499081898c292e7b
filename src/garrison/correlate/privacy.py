"""``PrivacyService``: reveal a pseudonym, apply retention, export and delete everything
stored about one person - lake events, findings, incidents, the vault entry.

Why here: correlate is the lowest stage that sees the lake, the findings and the incidents
together; the pieces that need less (keys, tokens, the vault, the lake search, retention
partitions) are in ``garrison.govern.privacy``. The CLI and the API call these methods;
each checks ``privacy.manage`` for the acting principal and writes one audit entry with
that identity, counts only: the person's value never reaches the audit log (the entry's
target is the subject's token, which reveals nothing without the key).

A person is named by a value (``alice``) or by a token (``pn:...``); both are searched for,
as whole words in any case, in every stored text: see ``Subject``. Stores of later stages
(the response ledger, the API's upload spool) are searched through the ``SubjectRecords``
providers the service is given (``garrison.intake_records.privacy_service`` wires them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.core.config import GarrisonConfig
from garrison.core.errors import UsageError
from garrison.core.timeutil import now_ms
from garrison.correlate.store import IncidentStore
from garrison.correlate.subject_records import SubjectRecords, replacement_for, safe_counts
from garrison.detect.ml.ueba.baseline import forget_users
from garrison.govern.access import Principal, requires
from garrison.govern.audit import AuditLog, audited
from garrison.govern.privacy import (
    Matcher,
    PrivacyConfig,
    PrivacyKeys,
    Vault,
    is_token,
    load_keys,
    load_privacy_config,
    personal,
    pseudonym,
    require_keys,
)
from garrison.govern.privacy.lake import event_json, expired, subject_hits
from garrison.store.lake import ParquetEventStore
from garrison.store.state import StateDB
from garrison.triage.store import FindingStore

#: The longest identifier accepted (a person's name, mail address or token).
MAX_SUBJECT = 512


@dataclass(frozen=True, slots=True)
class Subject:
    """A person as searched for: the token and every value known for it."""

    token: str
    values: tuple[str, ...]

    @property
    def terms(self) -> list[str]:
        return [self.token, *self.values]


@dataclass(slots=True)
class SubjectReport:
    """What an export found or a deletion removed (counts, never values)."""

    events: int = 0
    per_source: dict[str, int] = field(default_factory=dict)
    files: int = 0
    batches: int = 0
    findings: int = 0
    incidents: int = 0
    vault_entries: int = 0
    #: Learnt detector profiles of the person (UEBA), removed by a deletion.
    profiles: int = 0
    #: Counts of each ``SubjectRecords`` provider, by its name (response ledger, spool).
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    lake_before: int = 0
    lake_after: int = 0
    applied: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "per_source": dict(sorted(self.per_source.items())),
            "files": self.files,
            "batches": self.batches,
            "findings": self.findings,
            "incidents": self.incidents,
            "vault_entries": self.vault_entries,
            "profiles": self.profiles,
            "records": {name: dict(c) for name, c in sorted(self.records.items())},
            "lake_events_before": self.lake_before,
            "lake_events_after": self.lake_after,
            "applied": self.applied,
        }


@dataclass(slots=True)
class RetentionReport:
    partitions: list[dict[str, Any]] = field(default_factory=list)
    events: int = 0
    files: int = 0
    applied: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "partitions": self.partitions,
            "events": self.events,
            "files": self.files,
            "applied": self.applied,
        }


def _actor(self: PrivacyService, *_a: Any, **_k: Any) -> str:
    return self.principal.name


def _subject_target(self: PrivacyService, who: str, *_a: Any, **_k: Any) -> str:
    """The audit target: the subject's token (a value never reaches the log)."""
    return "subject:" + (who if is_token(who) else pseudonym(self._keys().token_key, who))


def _counts(value: Any, *_a: Any, **_k: Any) -> dict[str, Any]:
    return value.to_json() if hasattr(value, "to_json") else {}


def _retention_counts(value: RetentionReport, *_a: Any, **_k: Any) -> dict[str, Any]:
    return {
        "partitions": len(value.partitions),
        "events": value.events,
        "files": value.files,
        "applied": value.applied,
    }


class PrivacyService:
    """Privacy operations on one home, acting as ``principal``."""

    def __init__(
        self,
        home: Path,
        config: PrivacyConfig,
        state: StateDB,
        audit: AuditLog,
        principal: Principal,
        lock_wait: float | None = 3600.0,
        clock: Callable[[], int] = now_ms,
        records: Sequence[SubjectRecords] = (),
    ) -> None:
        self.home = Path(home)
        self.config = config
        self.state = state
        self.audit = audit
        self.principal = principal
        self.lock_wait = lock_wait
        self.clock = clock
        self.records = tuple(records)

    @classmethod
    def for_config(
        cls,
        config: GarrisonConfig,
        state: StateDB,
        audit: AuditLog,
        principal: Principal,
        records: Sequence[SubjectRecords] = (),
    ) -> PrivacyService:
        privacy = load_privacy_config(config.raw, config.path)
        wait = None if config.hunt.lock_wait < 0 else config.hunt.lock_wait
        return cls(config.home, privacy, state, audit, principal, wait, records=records)

    # -- pieces ------------------------------------------------------------------------------
    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    def _keys(self) -> PrivacyKeys:
        keys = load_keys(self.keys_dir, create=True)
        if keys is None:  # create=True makes them or raises; never None
            raise RuntimeError("privacy keys were neither loaded nor created")
        return keys

    def subject(self, who: str) -> Subject:
        """The person named by a value or a token; a value too long or naming nobody
        (``-``, ``unknown``) is a ``UsageError``."""
        if not who or len(who) > MAX_SUBJECT or not personal(who):
            raise UsageError(
                f"a data subject is a user name, address or pn: token of 1 to {MAX_SUBJECT} "
                "characters (not a placeholder such as '-')"
            )
        keys = self._keys()
        if is_token(who):
            value = Vault(self.state, keys.vault_key).reveal(who)
            return Subject(who, (value,) if value else ())
        return Subject(pseudonym(keys.token_key, who), (who,))

    @contextmanager
    def _lake(self, writer: bool) -> Iterator[ParquetEventStore]:
        store = ParquetEventStore(
            self.home / "lake", self.state, writer=writer, lock_wait=self.lock_wait
        )
        try:
            yield store
        finally:
            store.close()

    def _matching(self, subject: Subject) -> tuple[Matcher, list[str], list[str]]:
        """The matcher, and the uids of the findings and incidents that mention the subject."""
        matcher = Matcher(subject.terms)
        findings = [u for u, doc in FindingStore(self.state).docs() if matcher.in_leaves(doc)]
        incidents = [u for u, doc in IncidentStore(self.state).docs() if matcher.in_leaves(doc)]
        return matcher, findings, incidents

    # -- operations --------------------------------------------------------------------------
    @audited("privacy.reveal", actor=_actor, target=lambda self, token, *a, **k: token)
    @requires("privacy.manage")
    def reveal(self, token: str) -> str:
        """The original value behind ``token`` (admin only; audited)."""
        if not is_token(token):
            raise UsageError("a pseudonym is pn: followed by 32 lowercase hex digits")
        value = Vault(self.state, require_keys(self.keys_dir).vault_key).reveal(token)
        if value is None:
            raise UsageError(f"{token} is not in this home's vault")
        return value

    @audited("privacy.export", actor=_actor, target=_subject_target, result=_counts)
    @requires("privacy.manage")
    def export(self, who: str, write: Callable[[str], Any]) -> SubjectReport:
        """Every event, finding and incident mentioning the subject, one JSON object per
        line through ``write`` (``kind`` says which)."""
        subject = self.subject(who)
        matcher, finding_uids, incident_uids = self._matching(subject)
        report = SubjectReport()
        with self._lake(writer=False) as lake:
            report.lake_before = report.lake_after = lake.count()
            for hits in subject_hits(lake, matcher):
                report.files += 1
                for row in hits.rows():
                    _line(write, event_json(row))
                    _count_event(report, row)
        for finding in FindingStore(self.state).load(finding_uids):
            _line(write, {"kind": "finding", "finding": finding.to_ocsf()})
        incidents = IncidentStore(self.state)
        for uid in incident_uids:
            incident = incidents.get(uid)
            if incident is not None:
                _line(write, {"kind": "incident", "incident": incident.to_ocsf()})
        report.findings, report.incidents = len(finding_uids), len(incident_uids)
        report.vault_entries = len(Vault(self.state, self._keys().vault_key).known([subject.token]))
        for provider in self.records:
            found = provider.find(matcher)
            for record in found:
                _line(write, {"kind": provider.name, **_without_kind(record)})
            report.records[provider.name] = {"found": len(found)}
        return report

    @audited("privacy.delete", actor=_actor, target=_subject_target, result=_counts)
    @requires("privacy.manage")
    def delete(self, who: str, apply: bool = False) -> SubjectReport:
        """Remove every trace of the subject: its events from the lake (partitions rewritten
        atomically), the findings and incidents mentioning it, its learnt UEBA profile, the
        records of each provider (removed, scrubbed or kept with the reason), its vault
        entry. Without ``apply`` only counts what would go (profiles: not counted)."""
        subject = self.subject(who)
        matcher, finding_uids, incident_uids = self._matching(subject)
        vault = Vault(self.state, self._keys().vault_key)
        report = SubjectReport(applied=apply)
        with self._lake(writer=apply) as lake:
            report.lake_before = lake.count()
            hits = list(subject_hits(lake, matcher))
            for found in hits:
                for row in found.rows():
                    _count_event(report, row)
            report.files = len(hits)
            report.findings, report.incidents = len(finding_uids), len(incident_uids)
            report.vault_entries = len(vault.known([subject.token]))
            if apply:
                removed = lake.replace_files({h.path: h.kept() for h in hits})
                report.batches = len(removed)
                IncidentStore(self.state).forget(incident_uids)
                FindingStore(self.state).forget(finding_uids, incident_uids)
            self._forget_records(matcher, report, apply)
            if apply:
                vault.forget([subject.token])
                report.profiles = forget_users(self.state, matcher.search)
            report.lake_after = lake.count()
        return report

    def _forget_records(self, matcher: Matcher, report: SubjectReport, apply: bool) -> None:
        """Each provider's part of a deletion, before the vault entry goes (a subject named
        by its token is still known by its value while they search)."""
        replacement = replacement_for(matcher)
        for provider in self.records:
            counts = provider.forget(matcher, replacement, apply)
            report.records[provider.name] = safe_counts(counts, matcher)

    @audited("privacy.retention", actor=_actor, result=_retention_counts)
    @requires("privacy.manage")
    def retention(self, apply: bool = False) -> RetentionReport:
        """The lake partitions past their source's ``[privacy.retention]``, deleted with
        ``apply`` (dry run by default)."""
        report = RetentionReport(applied=apply)
        with self._lake(writer=apply) as lake:
            due = expired(lake, self.config.retention, self.clock())
            for part, days in due:
                report.partitions.append({**part.to_json(), "retention_days": days})
                report.events += part.events
                report.files += len(part.files)
            if apply and due:
                lake.replace_files({p: None for part, _ in due for p in part.files})
        return report


def _line(write: Callable[[str], Any], obj: dict[str, Any]) -> None:
    write(json.dumps(obj, ensure_ascii=True, default=str) + "\n")


def _without_kind(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "kind"}


def _count_event(report: SubjectReport, row: dict[str, Any]) -> None:
    report.events += 1
    source = str(row.get("source_format") or "unknown")
    report.per_source[source] = report.per_source.get(source, 0) + 1
