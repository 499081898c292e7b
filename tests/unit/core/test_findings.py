from garrison.core.attack import attacks_from_tags
from garrison.core.entities import Entity, entities_of, normalize_entity
from garrison.core.findings import Evidence, Finding


def _finding(**kw):
    base = dict(
        analytic_uid="rule-1",
        analytic_name="Rule",
        title="Rule fired",
        time=1000,
        severity_id=4,
        confidence=80,
        evidences=[Evidence("a.evtx", 7, "uid7", 1000)],
    )
    base.update(kw)
    return Finding(**base)


def test_finding_uid_is_deterministic_and_depends_on_evidence():
    a, b = _finding(), _finding()
    assert a.uid == b.uid
    c = _finding(evidences=[Evidence("a.evtx", 8, "uid8", 1000)])
    assert c.uid != a.uid


def test_ocsf_detection_finding_has_contract_fields():
    f = _finding(attacks=attacks_from_tags(["attack.execution", "attack.t1059.001"]))
    o = f.to_ocsf()
    assert o["class_uid"] == 2004
    info = o["finding_info"]
    assert info["uid"] == f.uid and info["title"] == "Rule fired"
    assert info["analytic"] == {"uid": "rule-1", "name": "Rule", "type": "rule"}
    assert info["attacks"] == [
        {
            "technique": {"uid": "T1059.001", "name": "PowerShell"},
            "tactic": {"uid": "TA0002", "name": "Execution"},
        }
    ]
    assert o["evidences"][0]["data"]["source_path"] == "a.evtx"
    assert o["evidences"][0]["data"]["record_id"] == 7
    assert o["time"] == 1000 and 0 <= o["confidence_score"] <= 100


def test_scores_are_clamped():
    f = _finding(severity_id=9, confidence=250)
    assert f.severity_id == 5 and f.confidence == 100


def test_new_tactics_resolve():
    attacks = attacks_from_tags(["attack.stealth", "attack.defense-impairment"])
    assert {a.tactic_name for a in attacks} == {"Stealth", "Defense Impairment"}


def test_entities_of_reads_the_normalizer_paths_and_drops_non_entities():
    ocsf = {
        "device": {"hostname": "WS1.corp.local"},
        "actor": {"user": {"name": "CORP\\Alice"}},
        "src_endpoint": {"ip": "10.0.0.5"},
        "dst_endpoint": {"ip": "-"},
        "query": {"hostname": "Example.COM."},
    }
    assert entities_of(ocsf) == [
        Entity("host", "ws1"),
        Entity("user", "alice"),
        Entity("ip", "10.0.0.5"),
        Entity("domain", "example.com"),
    ]
    assert normalize_entity("user", "SYSTEM") is None
    assert normalize_entity("ip", "999.1.1.1") is None


def test_triage_state_maps_to_ocsf_status_and_verdict():
    f = _finding()
    assert (f.to_ocsf()["status_id"], "verdict_id" in f.to_ocsf()) == (1, False)
    f.explanation["triage"] = {"status": "suppressed", "disposition": "fp"}
    o = f.to_ocsf()
    assert (o["status_id"], o["status"], o["verdict_id"], o["verdict"]) == (
        3,
        "Suppressed",
        1,
        "False Positive",
    )


def test_host_resources_carry_asset_criticality():
    f = _finding(
        entities=[Entity("host", "dc01"), Entity("user", "bob")],
        explanation={"enrichment": {"criticality": "critical"}},
    )
    assert f.to_ocsf()["resources"] == [
        {"type": "host", "value": "dc01", "criticality": "critical"},
        {"type": "user", "value": "bob"},
    ]
