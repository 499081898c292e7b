"""Finding scores and risk-based alerting: every score is the exact sum of its parts."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.core.attack import attack_of
from garrison.core.entities import Entity
from garrison.core.findings import Evidence, Finding
from garrison.triage.config import RiskConfig
from garrison.triage.marks import mark_suppressed, set_disposition
from garrison.triage.risk import StackedRisk, decay, entity_risks, incident_risk, saturate
from garrison.triage.scoring import RuleHistory, ScoreContext, score_finding

HOUR = 3_600_000
T0 = 1_740_000_000_000


def _finding(uid="f", t=T0, sev=4, conf=80, analytic="r1", entities=None, **kw):
    return Finding(
        analytic_uid=analytic,
        analytic_name=analytic,
        title=analytic,
        time=t,
        severity_id=sev,
        confidence=conf,
        evidences=[Evidence("a.log", 1, uid, t)],
        entities=entities if entities is not None else [Entity("host", "ws1")],
        uid=uid,
        **kw,
    )


enrichments = st.fixed_dictionaries(
    {
        "criticality": st.sampled_from(["unknown", "low", "medium", "high", "critical"]),
        "assets": st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.text(max_size=5),
                    "exposure": st.sampled_from(["internal", "dmz", "internet"]),
                    "vulnerabilities": st.lists(
                        st.fixed_dictionaries({"cvss": st.floats(0, 10)}), max_size=2
                    ),
                }
            ),
            max_size=2,
        ),
        "identities": st.lists(st.fixed_dictionaries({"privileged": st.booleans()}), max_size=2),
        "intel": st.lists(st.fixed_dictionaries({"confidence": st.integers(-50, 200)}), max_size=2),
    }
)


@settings(max_examples=400, deadline=None)
@given(
    sev=st.integers(-3, 9),
    conf=st.integers(-50, 300),
    count=st.integers(1, 10_000),
    technique=st.sampled_from(["", "T1003.001", "T1059.001", "T1041", "T1566.001"]),
    enrichment=enrichments,
    verdict=st.sampled_from(["", "tp", "btp", "fp"]),
    suppressed=st.booleans(),
    history=st.tuples(st.integers(0, 50), st.integers(0, 50)),
)
def test_finding_score_is_the_exact_sum_of_its_parts(
    sev, conf, count, technique, enrichment, verdict, suppressed, history
):
    f = _finding(sev=sev, conf=conf, count=count)
    f.attacks = [attack_of(technique)] if technique else []
    f.explanation["enrichment"] = enrichment
    if verdict:
        set_disposition(f, verdict)
    if suppressed:
        mark_suppressed(f, "test")
    total, fp = max(history), min(history)
    score_finding(f, ScoreContext({"r1": RuleHistory(total, fp)}))
    assert sum(f.risk_parts.values()) == f.risk_score
    assert all(float(v).is_integer() for v in f.risk_parts.values())
    assert 0 <= f.risk_score <= 100
    if verdict in ("fp", "btp") or (suppressed and verdict != "tp"):
        assert f.risk_score == 0
    if verdict == "tp":
        assert f.risk_score >= 75


def test_context_raises_and_history_lowers_the_score():
    plain = _finding()
    score_finding(plain)
    rich = _finding()
    rich.explanation["enrichment"] = {
        "criticality": "critical",
        "assets": [{"name": "dc01", "exposure": "internet", "vulnerabilities": [{"cvss": 9.8}]}],
        "identities": [{"privileged": True}],
        "intel": [{"confidence": 100}],
    }
    score_finding(rich)
    assert rich.risk_parts["asset_criticality:critical:dc01"] == 20
    assert rich.risk_parts["threat_intel"] == 15 and rich.risk_parts["privileged_identity"] == 10
    assert rich.risk_score > plain.risk_score
    noisy = _finding()
    score_finding(noisy, ScoreContext({"r1": RuleHistory(10, 10)}))
    assert noisy.risk_parts["rule_history_fp_share"] == -15
    few = _finding()
    score_finding(few, ScoreContext({"r1": RuleHistory(2, 2)}))  # too little history: ignored
    assert "rule_history_fp_share" not in few.risk_parts


def test_decay_halves_per_half_life():
    assert decay(80, HOUR, HOUR) == 40
    assert decay(80, 3 * HOUR, HOUR) == 10
    risk = StackedRisk(HOUR, 0.5)
    risk.add(T0, "a", 40)
    assert risk.value_at(T0 + HOUR) == pytest.approx(20)
    assert risk.add(T0 + HOUR, "b", 40) == pytest.approx(40 + 10)  # b in full, a halved twice


def test_stacked_risk_survives_years_between_events():
    risk = StackedRisk(HOUR, 0.5)
    risk.add(T0, "a", 50)
    value = risk.add(T0 + 3 * 365 * 24 * HOUR, "b", 30)
    assert value == pytest.approx(30)


def test_an_entity_crossing_the_threshold_opens_at_that_finding():
    cfg = RiskConfig(threshold=50)
    low = [_finding(f"f{i}", T0 + i * 60_000, sev=3, conf=100, analytic=f"r{i}") for i in range(3)]
    for f in low:
        score_finding(f)
    _, crossing = entity_risks(low[:1], cfg)
    assert crossing is None  # one medium finding alone stays below
    risks, crossing = entity_risks(low, cfg)
    assert crossing is not None and crossing.entity == "host:ws1"
    assert crossing.finding_uid == "f1"  # 35 + 35/2 = 52.5 >= 50
    assert risks["host:ws1"].peak >= 50


def test_risk_decays_away_between_distant_findings():
    cfg = RiskConfig(threshold=50, half_life_ms=HOUR)
    far = [
        _finding(f"f{i}", T0 + i * 24 * HOUR, sev=3, conf=100, analytic=f"r{i}") for i in range(5)
    ]
    for f in far:
        score_finding(f)
    assert entity_risks(far, cfg)[1] is None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 72), st.integers(0, 5), st.integers(0, 100), st.integers(0, 6)),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 10),
)
def test_incident_score_is_the_exact_sum_of_its_parts(rows, tactics):
    findings = []
    for i, (hour, sev, conf, rule) in enumerate(rows):
        f = _finding(f"f{i}", T0 + hour * HOUR, sev=sev, conf=conf, analytic=f"r{rule}")
        score_finding(f)
        findings.append(f)
    risk = incident_risk(findings, tactics, RiskConfig())
    assert sum(risk.parts.values()) == risk.score
    assert all(float(v).is_integer() for v in risk.parts.values())
    assert 0 <= risk.score <= 100


def test_saturation_keeps_order_below_100():
    values = [saturate(x) for x in range(0, 400, 10)]
    assert values == sorted(values) and max(values) < 100.0
    assert saturate(60) == 60
