"""``PrivacyService`` as the API will call it: only ``privacy.manage`` may act, every call
(a refusal too) is audited with the principal's name, never with the person's value, and
bad identifiers are usage errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from garrison.core.errors import AccessDenied, UsageError
from garrison.core.events import Event, Provenance
from garrison.correlate.privacy import PrivacyService
from garrison.govern.access import Principal
from garrison.govern.audit import MemoryAuditLog
from garrison.govern.privacy import PrivacyConfig
from garrison.store.lake import ParquetEventStore
from garrison.store.state import StateDB

ADMIN = Principal("ada", frozenset({"admin"}), "token")
ANALYST = Principal("ann", frozenset({"analyst", "responder", "viewer"}), "token")


def service(home: Path, who: Principal, audit: MemoryAuditLog) -> PrivacyService:
    state = StateDB(home / "state.db")
    return PrivacyService(home, PrivacyConfig(retention={"syslog": 1}), state, audit, who)


def seed(home: Path) -> None:
    state = StateDB(home / "state.db")
    store = ParquetEventStore(home / "lake", state)
    prov = Provenance("/l", "syslog", 1, "c" * 64, 0)
    events = [
        Event(f"e{i}", 0, 1_700_000_000_000, {"user": {"name": u}}, {"u": u}, f"x {u}", prov)
        for i, u in enumerate(("alice", "bob", "alice"))
    ]
    store.write_batch("c" * 64, "syslog", "/l", events)
    store.close()


def test_only_privacy_manage_may_and_refusals_are_audited(home: Path) -> None:
    seed(home)
    audit = MemoryAuditLog()
    denied = service(home, ANALYST, audit)
    calls = (
        lambda: denied.export("alice", io.StringIO().write),
        lambda: denied.delete("alice", apply=True),
        lambda: denied.retention(apply=True),
        lambda: denied.reveal("pn:" + "0" * 32),
    )
    for call in calls:
        with pytest.raises(AccessDenied, match=r"privacy\.manage"):
            call()
    entries = audit.entries()
    assert [e.outcome for e in entries] == ["error:AccessDenied"] * 4
    assert {e.actor for e in entries} == {"ann"}
    assert ParquetEventStore(home / "lake", StateDB(home / "state.db"), writer=False).count() == 3


def test_admin_acts_and_the_audit_holds_counts_not_values(home: Path) -> None:
    seed(home)
    audit = MemoryAuditLog()
    admin = service(home, ADMIN, audit)
    out = io.StringIO()
    report = admin.export("Alice", out.write)
    assert report.events == 2 and len(out.getvalue().splitlines()) == 2
    removed = admin.delete("alice", apply=True)
    assert removed.lake_before - removed.events == removed.lake_after == 1
    due = admin.retention()
    assert [p["day"] for p in due.partitions] == ["2023-11-14"] and not due.applied
    text = json.dumps([e.to_json() for e in audit.entries()])
    assert "alice" not in text.lower() and '"actor": "ada"' in text
    by_action = {e.action: e for e in audit.entries()}
    assert set(by_action) == {"privacy.export", "privacy.delete", "privacy.retention"}
    assert by_action["privacy.delete"].target.startswith("subject:pn:")
    assert by_action["privacy.delete"].target == by_action["privacy.export"].target
    assert json.loads(by_action["privacy.delete"].details)["events"] == 2


@pytest.mark.parametrize("bad", ["", "-", "unknown", "x" * 513])
def test_a_subject_must_name_someone(home: Path, bad: str) -> None:
    admin = service(home, ADMIN, MemoryAuditLog())
    with pytest.raises(UsageError, match="data subject"):
        admin.export(bad, io.StringIO().write)


def test_reveal_needs_a_token_and_a_key(home: Path) -> None:
    admin = service(home, ADMIN, MemoryAuditLog())
    with pytest.raises(UsageError, match="pn: followed by"):
        admin.reveal("alice")
    with pytest.raises(Exception, match="pseudonymized nothing"):
        admin.reveal("pn:" + "0" * 32)
