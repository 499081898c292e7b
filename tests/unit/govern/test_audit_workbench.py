"""Analyst decisions through the Workbench each write one entry to the audit log passed in
(the in-memory twin here), with the resolved ids and the analyst's claimed name."""

from garrison.correlate.service import AlertPipeline
from garrison.correlate.synthetic import generate
from garrison.correlate.workbench import Workbench
from garrison.govern.audit import MemoryAuditLog
from garrison.store.state import StateDB
from garrison.triage.config import TriageConfig
from garrison.triage.service import TriageService
from garrison.triage.store import FindingStore


def test_workbench_decisions_are_audited(tmp_path):
    state = StateDB.memory()
    cfg = TriageConfig()
    service = TriageService(cfg, store=FindingStore(state))
    pipeline = AlertPipeline(cfg, service, state, tmp_path / "idx.usearch")
    pipeline.process(generate(600, n_users=30, n_chains=2, seed=9).findings)
    log = MemoryAuditLog()
    bench = Workbench(cfg, state, tmp_path / "idx.usearch", audit=log)
    incidents = bench.incidents.rows("ORDER BY risk_score DESC LIMIT ?", (3,))
    a, b = str(incidents[0]["uid"]), str(incidents[1]["uid"])
    finding = str(bench.findings.rows("LIMIT ?", (1,))[0]["uid"])

    bench.dispose_finding(finding, "fp", "noise", "alice")
    bench.set_status(a, "acknowledged", "alice")
    bench.dispose_incident(a, "tp", analyst="bob", resolve=True)
    merged = bench.merge(a, [b], "bob")
    kept, new = bench.split(a, [merged.finding_uids[0]], "bob")

    entries = list(reversed(log.entries()))
    assert [e.action for e in entries] == [
        "finding.disposition",
        "incident.status",
        "incident.disposition",
        "incident.merge",
        "incident.split",
    ]
    assert all(e.outcome == "ok" for e in entries)
    first = entries[0].details_obj()
    assert first["finding"] == finding and first["verdict"] == "fp"
    assert first["analyst"] == "alice"
    assert entries[3].details_obj()["others"] == [b]
    assert entries[4].details_obj() == {
        "findings": [merged.finding_uids[0]],
        "analyst": "bob",
        "kept": kept.uid,
        "new": new.uid,
    }
    assert log.verify().ok


def test_default_log_of_an_in_memory_state_is_the_twin():
    bench = Workbench(TriageConfig(), StateDB.memory())
    assert isinstance(bench.audit, MemoryAuditLog)
