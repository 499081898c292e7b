"""Configuration, the SQLite finding store, dispositions, stored allowlists, tuning advice."""

import pytest

from garrison.core.entities import Entity
from garrison.core.errors import InputError
from garrison.core.findings import Evidence, Finding
from garrison.store.state import StateDB
from garrison.triage.codec import finding_from_ocsf
from garrison.triage.config import load_triage_config, parse_duration
from garrison.triage.feedback import rule_stats, tuning_suggestions
from garrison.triage.rules import SuppressionRule
from garrison.triage.service import TriageService
from garrison.triage.store import FindingStore

T0 = 1_740_000_000_000


def _f(i, analytic="r1", host="ws1", user="alice", t=T0):
    return Finding(
        analytic_uid=analytic,
        analytic_name=f"Rule {analytic}",
        title=f"Rule {analytic}",
        time=t + i * 7_200_000,
        severity_id=4,
        confidence=80,
        evidences=[Evidence("a.log", i, f"e{analytic}{host}{i}", t)],
        entities=[Entity("host", host), Entity("user", user)],
    )


def test_config_sections_and_errors():
    cfg = load_triage_config(
        {
            "triage": {
                "dedup_window": "30m",
                "risk": {"half_life": "12h", "threshold": 60},
                "suppress": [{"analytic": "noisy*", "window": "1h", "by": "user"}],
                "exceptions": [{"analytic": "r1", "host": "backup01", "reason": "backups"}],
                "allowlist": [{"kind": "domain", "value": "*.windowsupdate.com"}],
            },
            "correlate": {"window": "2d", "short_window": 3_600_000, "hub_fanout": 10},
        }
    )
    assert cfg.noise.dedup_window_ms == 1_800_000 and cfg.risk.half_life_ms == 43_200_000
    assert cfg.risk.threshold == 60 and cfg.noise.suppress[0].by == ("user",)
    assert cfg.noise.exceptions[0].match == {"host": "backup01"}
    assert cfg.correlate.window_ms == 172_800_000 and cfg.correlate.short_window_ms == 3_600_000
    for raw, message in (
        ({"triage": {"risk": {"threshold": "high"}}}, "expected float"),
        ({"triage": {"risk": {"half_life": "soon"}}}, "is not a duration"),
        ({"triage": {"exceptions": [{"host": "x"}]}}, "needs an 'analytic'"),
        ({"triage": {"suppress": [{"analytic": "x"}]}}, "needs 'analytic' and 'window'"),
        ({"correlate": {"windw": "1h"}}, "unknown key"),
        ({"triage": []}, "must be a table"),
    ):
        with pytest.raises(InputError, match=message):
            load_triage_config(raw)
    assert parse_duration("1w", "x") == 604_800_000


def test_findings_round_trip_through_the_store_and_ocsf():
    store = FindingStore(StateDB.memory())
    f = _f(1)
    f.explanation["enrichment"] = {"criticality": "high"}
    store.save([f], "run1")
    back = store.load([f.uid])[0]
    assert back.to_ocsf() == finding_from_ocsf(f.to_ocsf()).to_ocsf()
    assert (back.uid, back.entities, back.analytic_uid) == (f.uid, f.entities, "r1")
    assert store.rows()[0]["criticality"] == "high"
    assert store.find(f.uid[:8]) == f.uid


def test_verdicts_survive_a_rerun_and_the_latest_wins():
    state = StateDB.memory()
    service = TriageService(load_triage_config({}), store=FindingStore(state))
    first = service.process([_f(1)])
    service.store.save(first, "run1")
    service.store.add_disposition("finding", first[0].uid, "tp")
    service.store.add_disposition("finding", first[0].uid, "fp", note="changed my mind")
    again = service.process([_f(1)])
    assert again[0].explanation["triage"]["disposition"] == "fp"
    assert again[0].risk_score == 0 and again[0].risk_parts["analyst:false_positive"] < 0


def test_an_allowlist_added_later_suppresses_stored_findings_except_true_positives():
    state = StateDB.memory()
    store = FindingStore(state)
    service = TriageService(load_triage_config({}), store=store)
    kept = service.process([_f(1, host="lab1"), _f(2, host="lab1", analytic="r2"), _f(3)])
    store.save(kept, "run1")
    confirmed = next(f for f in kept if f.analytic_uid == "r2")
    store.add_disposition("finding", confirmed.uid, "tp")
    store.add_allow(SuppressionRule.build({"host": "lab1"}, reason="test lab"))
    changed = service.reapply_stored()
    lab1 = [f for f in kept if f.entities[0].value == "lab1" and f.uid != confirmed.uid]
    assert changed == [lab1[0].uid]
    row = store.rows("WHERE uid = ?", (lab1[0].uid,))[0]
    assert row["status"] == "suppressed" and row["risk_score"] == 0
    assert "test lab" in row["status_reason"]
    stored = store.load([lab1[0].uid])[0]
    assert stored.explanation["triage"]["status"] == "suppressed"
    new_run = service.process([_f(9, host="lab1", analytic="r3")])
    assert new_run[0].explanation["triage"]["status"] == "suppressed"


def test_rule_precision_and_exception_suggestions():
    findings = [_f(i, host="backup01") for i in range(5)] + [_f(9, host="ws7")]
    rows = [{"uid": f.uid, "analytic_uid": "r1", "analytic_name": "Rule r1"} for f in findings]
    verdicts = {f.uid: "fp" for f in findings[:4]} | {findings[5].uid: "tp"}
    stats = rule_stats(rows, verdicts)["r1"]
    assert (stats.findings, stats.reviewed, stats.tp, stats.fp) == (6, 5, 1, 4)
    assert stats.precision == pytest.approx(0.2)
    entities = {f.uid: f.entities for f in findings}
    out = tuning_suggestions(rows, verdicts, entities, min_count=3)
    texts = [s.text for s in out]
    assert texts == ["rule Rule r1: 4 FP on host backup01 -> suggest exception"]
    assert "garrison allowlist add host backup01 --analytic r1" in out[0].command
