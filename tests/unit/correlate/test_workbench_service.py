"""The Workbench as the service layer interfaces call: typed queries (no SQL from callers)
and the acting identity passed in explicitly and written to every audit entry."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from garrison.core.config import GarrisonConfig
from garrison.core.errors import UsageError
from garrison.correlate.service import INDEX_FILE
from garrison.correlate.store import INCIDENT_STATUSES
from garrison.correlate.synthetic import generate
from garrison.correlate.workbench import Workbench
from garrison.govern.audit import MemoryAuditLog, open_audit
from garrison.govern.audit.log import current_actor
from garrison.interfaces.cli.app import app
from garrison.store.state import StateDB
from garrison.triage.config import TriageConfig
from garrison.triage.store import FindingStore
from tests.support import store_alerts


@pytest.fixture()
def seeded(tmp_path):
    state = StateDB(tmp_path / "state.db")
    store_alerts(
        state, tmp_path / INDEX_FILE, generate(400, n_users=20, n_chains=2, seed=4).findings
    )
    return state, tmp_path


def test_typed_finding_query_filters_orders_and_limits(seeded):
    state, _ = seeded
    store = FindingStore(state)
    everything = store.rows()
    top = store.list(status="all", limit=5)
    assert len(top) == 5
    risks = [r["risk_score"] for r in top]
    assert risks == sorted(risks, reverse=True)
    assert risks[0] == max(r["risk_score"] for r in everything)
    active = store.list(status="active", limit=10_000)
    assert {r["status"] for r in active} <= {"active"}
    assert len(active) == sum(1 for r in everything if r["status"] == "active")
    assert len(store.list(limit=0)) == 1  # at least one row, as the CLI always showed
    with pytest.raises(UsageError, match="finding status must be one of"):
        store.list(status="active' OR 1=1 --")


def test_typed_incident_query_knows_open_all_and_each_status(seeded):
    state, tmp_path = seeded
    bench = Workbench(TriageConfig(), state, tmp_path / INDEX_FILE, audit=MemoryAuditLog())
    rows = bench.incidents.rows()
    first, second = rows[0]["uid"], rows[1]["uid"]
    bench.set_status(first, "acknowledged")
    bench.set_status(second, "resolved")
    open_uids = {r["uid"] for r in bench.list_incidents("open", 1000)}
    assert first in open_uids and second not in open_uids
    assert [r["uid"] for r in bench.list_incidents("resolved", 10)] == [second]
    assert {r["status"] for r in bench.list_incidents("all", 1000)} >= {"acknowledged", "new"}
    for status in INCIDENT_STATUSES:
        bench.list_incidents(status, 3)
    with pytest.raises(UsageError, match="incident status must be one of"):
        bench.list_incidents("nope")


def test_the_actor_given_to_the_service_is_the_audited_identity(seeded):
    state, tmp_path = seeded
    log = MemoryAuditLog()
    bench = Workbench(TriageConfig(), state, tmp_path / INDEX_FILE, audit=log, actor="api:alice")
    uid = bench.list_incidents(limit=1)[0]["uid"]
    bench.set_status(uid, "acknowledged", analyst="claims-to-be-bob")
    bench.allow("host", "lab9", reason="test lab")
    with pytest.raises(UsageError):
        bench.dispose_finding("no-such-finding", "fp")
    entries = log.entries()
    assert [e.actor for e in entries] == ["api:alice"] * 3
    assert entries[-1].details_obj()["analyst"] == "claims-to-be-bob"
    unnamed = Workbench(TriageConfig(), state, tmp_path / INDEX_FILE, audit=log)
    unnamed.set_status(uid, "new")
    assert log.entries(1)[0].actor == current_actor()


def test_the_cli_acts_as_the_os_account(tmp_path):
    home = tmp_path / "home"
    Workbench.open(GarrisonConfig(home=home))  # an empty state
    result = CliRunner().invoke(app, ["allowlist", "add", "user", "svc", "--home", str(home)])
    assert result.exit_code == 0, result.output
    entry = open_audit(home).entries(1)[0]
    assert (entry.action, entry.actor) == ("allowlist.add", current_actor())
