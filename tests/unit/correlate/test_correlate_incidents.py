"""Incidents: story along the kill chain, explanations that add up, persistence, analyst edits."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.core.attack import KILL_CHAIN, attack_of, tactic_rank
from garrison.core.config import GarrisonConfig
from garrison.core.entities import Entity
from garrison.core.errors import UsageError
from garrison.core.findings import Evidence, Finding
from garrison.correlate.incident import apportion, build_incident
from garrison.correlate.service import AlertPipeline
from garrison.correlate.similar import SimilarIndex
from garrison.correlate.workbench import Workbench
from garrison.store.state import StateDB
from garrison.triage.config import RiskConfig, TriageConfig
from garrison.triage.enrich import AssetInventory, Enricher
from garrison.triage.enrich.inventory import Asset
from garrison.triage.scoring import score_finding
from garrison.triage.service import TriageService
from garrison.triage.store import FindingStore

MIN = 60_000
T0 = 1_740_000_000_000
CHAIN = ["T1041", "T1566.001", "T1003.001", "T1059.001", "T1021.002"]  # out of order on purpose


def _f(i, t, technique, *entities, sev=4, crit="unknown"):
    f = Finding(
        analytic_uid=f"rule-{technique}",
        analytic_name=f"Rule {technique}",
        title=f"Saw {technique}",
        time=t,
        severity_id=sev,
        confidence=90,
        evidences=[Evidence("a.log", i, f"ev{i}-{technique}-{t}", t)],
        attacks=[attack_of(technique)],
        entities=[Entity(k, v) for k, v in (entities or (("host", "ws1"), ("user", "al")))],
    )
    f.explanation["enrichment"] = {
        "criticality": crit,
        "assets": [{"name": "ws1", "criticality": crit}] if crit != "unknown" else [],
    }
    return f


def _chain(start=T0, host="ws1", user="al"):
    return [
        _f(i, start + (len(CHAIN) - i) * 5 * MIN, tech, ("host", host), ("user", user))
        for i, tech in enumerate(CHAIN)
    ]


def _pipeline(state, home=None):
    cfg = TriageConfig()
    inventory = AssetInventory([Asset("db9.corp.example", criticality="critical")])
    service = TriageService(cfg, Enricher(inventory), store=FindingStore(state))
    return AlertPipeline(cfg, service, state, home / "incidents.usearch" if home else None)


def test_story_follows_time_and_the_kill_chain_and_parts_add_up():
    members = _chain()
    for f in members:
        score_finding(f)
    inc = build_incident(members, RiskConfig())
    ranks = [tactic_rank(s["tactic"]) for s in inc.stages]
    assert ranks == sorted(ranks) and len(inc.stages) == 5
    assert inc.stages[0]["tactic"] == "Initial Access"
    assert [e["time"] for e in inc.timeline] == sorted(e["time"] for e in inc.timeline)
    assert sum(inc.risk_parts.values()) == inc.risk_score
    assert sum(inc.explanation["factors"].values()) == inc.risk_score
    assert inc.band == "Critical" and inc.risk_parts["kill_chain_breadth"] == 20
    assert inc.explanation["top_findings"][0]["contribution"] > 0
    assert inc.title.endswith(
        "on ws1, al: Initial Access → Execution → Credential Access → Lateral Movement"
    )
    assert "Starts with Initial Access" in inc.description


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 600),
            st.sampled_from(["T1041", "T1566.001", "T1003.001", "T1059.001", "T1082", "T1021.002"]),
            st.integers(1, 5),
            st.sampled_from(["unknown", "low", "high", "critical"]),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_every_incident_explanation_adds_up(rows):
    members = [
        _f(i, T0 + m * MIN, tech, sev=sev, crit=c) for i, (m, tech, sev, c) in enumerate(rows)
    ]
    for f in members:
        score_finding(f)
    inc = build_incident(members, RiskConfig())
    assert sum(inc.risk_parts.values()) == inc.risk_score
    assert sum(inc.explanation["factors"].values()) == inc.risk_score
    assert 0 <= inc.risk_score <= 100


def test_apportion_hits_the_total_exactly():
    assert sum(apportion({"a": 10.4, "b": -3.7, "c": 0.2}, 7).values()) == 7
    assert sum(apportion({"a": 0.4, "b": 0.4}, 3).values()) == 3


def test_pipeline_persists_and_a_rerun_keeps_the_analyst_state(tmp_path):
    state = StateDB(tmp_path / "state.db")
    first = _pipeline(state, tmp_path)
    _, incidents = first.process(_chain())
    assert len(incidents) == 1
    uid = incidents[0].uid
    bench = Workbench(TriageConfig(), state, tmp_path / "incidents.usearch")
    bench.set_status(uid[:10], "acknowledged")
    bench.dispose_incident(uid, "tp", note="confirmed")
    _, again = _pipeline(state, tmp_path).process(_chain())
    assert [i.uid for i in again] == [uid]
    assert (again[0].status, again[0].verdict) == ("acknowledged", "tp")
    row = bench.incidents.row(uid)
    assert row["acknowledged_at"] is not None and row["created_at"] <= row["acknowledged_at"]


def test_similar_past_incidents_are_found_across_runs(tmp_path):
    state = StateDB(tmp_path / "state.db")
    _pipeline(state, tmp_path).process(_chain(host="ws1", user="al"))
    noise = [
        _f(i, T0 + i * MIN, "T1082", ("host", "ws7"), ("user", "zed"), sev=5) for i in range(3)
    ]
    _pipeline(state, tmp_path).process(noise)
    _, later = _pipeline(state, tmp_path).process(_chain(T0 + 30 * 86_400_000, "ws2", "bo"))
    similar = later[0].similar
    assert similar and similar[0]["similarity"] > 0.9
    assert "ws1" in similar[0]["title"]  # the same attack on another host, not the noise
    assert similar[0]["similarity"] > similar[-1]["similarity"] or len(similar) == 1


def test_the_similarity_index_is_rebuilt_when_the_cache_is_lost(tmp_path):
    state = StateDB(tmp_path / "state.db")
    _pipeline(state, tmp_path).process(_chain())
    _pipeline(state, tmp_path).process(_chain(T0 + 86_400_000 * 20, "ws3", "cy"))
    (tmp_path / "incidents.usearch").write_bytes(b"garbage")
    bench = Workbench(TriageConfig(), state, tmp_path / "incidents.usearch")
    uid = bench.incidents.rows("ORDER BY id")[0]["uid"]
    assert len(bench.similar(uid, k=3)) == 1
    index = SimilarIndex(None)
    index.load([(1, np.ones(256, dtype=np.float32))], expected=1)
    assert index.search(np.ones(256, dtype=np.float32), 1) == [(1, pytest.approx(1.0))]


def test_merge_and_split_keep_enrichment_and_survive_a_rerun(tmp_path):
    state = StateDB(tmp_path / "state.db")
    a = _chain(host="ws1", user="al")
    b = [
        _f(
            50 + i,
            T0 + 3 * 86_400_000 + i * MIN,
            t,
            ("host", "db9"),
            ("user", "xo"),
            crit="critical",
        )
        for i, t in enumerate(["T1059.001", "T1003.001"])
    ]
    _, incidents = _pipeline(state, tmp_path).process(a + b)
    assert len(incidents) == 2
    bench = Workbench(TriageConfig(), state, tmp_path / "incidents.usearch")
    first, second = incidents
    merged = bench.merge(first.uid, [second.uid])
    assert len(merged.finding_uids) == 7
    assert merged.enrichment["criticality"] == "critical"
    assert bench.incidents.find(second.uid) == merged.uid  # a merged id follows to its target
    _, rerun = _pipeline(state, tmp_path).process(a + b)
    assert [i.uid for i in rerun] == [merged.uid] and len(rerun[0].finding_uids) == 7
    db_findings = [u for u in merged.finding_uids if u in {f.uid for f in b}]
    kept, new = bench.split(merged.uid, db_findings)
    assert len(kept.finding_uids) == 5 and len(new.finding_uids) == 2
    assert new.enrichment["criticality"] == "critical"
    assert kept.enrichment["criticality"] == "unknown"
    _, rerun = _pipeline(state, tmp_path).process(a + b)
    assert sorted(len(i.finding_uids) for i in rerun) == [2, 5]
    with pytest.raises(UsageError):
        bench.split(kept.uid, ["nope"])


def test_verdicts_rescore_findings_and_rebuild_their_incident(tmp_path):
    state = StateDB(tmp_path / "state.db")
    _, incidents = _pipeline(state, tmp_path).process(_chain())
    inc = incidents[0]
    bench = Workbench(TriageConfig(), state, tmp_path / "incidents.usearch")
    top = inc.explanation["top_findings"][0]["uid"]
    result = bench.dispose_finding(top[:12], "fp", note="test")
    assert result["risk_score"] == 0 and result["incident"] == inc.uid
    rebuilt = bench.incident(inc.uid)
    assert top not in rebuilt.finding_uids and rebuilt.risk_score <= inc.risk_score
    assert sum(rebuilt.risk_parts.values()) == rebuilt.risk_score
    assert bench.effective_verdicts()[top] == "fp"


def test_allowlisting_stored_data_updates_incidents(tmp_path):
    state = StateDB(tmp_path / "state.db")
    _, incidents = _pipeline(state, tmp_path).process(_chain(host="lab7"))
    bench = Workbench.open(GarrisonConfig(home=tmp_path))
    result = bench.allow("host", "lab7", reason="test lab")
    assert result == {"id": 1, "suppressed_findings": 5, "incidents_updated": 1}
    assert bench.incidents.row(incidents[0].uid)["status"] == "suppressed"
    _, again = _pipeline(state, tmp_path).process(_chain(host="lab7"))
    assert again == []
    with pytest.raises(UsageError):
        bench.allow("colour", "red")


def test_kill_chain_constant_is_what_stages_sort_by():
    assert KILL_CHAIN.index("initial-access") < KILL_CHAIN.index("exfiltration")
