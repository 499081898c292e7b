"""Asset inventory loading and lookups, intel mapping, and enrichment of findings."""

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.core.entities import Entity
from garrison.core.errors import InputError
from garrison.core.findings import Evidence, Finding
from garrison.triage.enrich import Enricher, load_intel, load_inventory

DAY = 86_400_000
T0 = 1_740_000_000_000

CSV = """host,ip,owner,criticality,exposure,tags,vulnerabilities,user,department,privileged
dc01.corp.example,10.0.0.10,it,critical,internal,dc;tier0,CVE-2020-1472:10.0,,,
WS01.corp.example,10.0.1.21;10.0.1.22,alice,medium,internal,laptop,,alice,Finance,no
web01,203.0.113.5,web,high,internet,"dmz,web",CVE-2021-44228:10;CVE-2019-0708:9.8,,,
,,,,,,,adm-bob,IT,yes
"""


def _finding(*entities, **kw):
    base = dict(
        analytic_uid="r1",
        analytic_name="Rule",
        title="Rule fired",
        time=T0,
        severity_id=4,
        confidence=80,
        evidences=[Evidence("a.log", 1, "e1", T0)],
        entities=list(entities),
    )
    base.update(kw)
    return Finding(**base)


def test_csv_inventory_matches_short_names_fqdn_ip_and_users(tmp_path):
    inv = load_inventory(_write(tmp_path / "assets.csv", CSV))
    assert [a.host for a in inv.host("DC01")] == ["dc01.corp.example"]
    assert [a.host for a in inv.host("dc01.CORP.example.")] == ["dc01.corp.example"]
    assert [a.host for a in inv.host("ws01")] == ["WS01.corp.example"]
    assert [a.host for a in inv.ip("10.0.1.22")] == ["WS01.corp.example"]
    assert inv.user("CORP\\Adm-Bob").privileged is True
    assert inv.user("alice@corp.example").department == "Finance"
    web = inv.host("web01")[0]
    assert web.exposure == "internet" and web.tags == ("dmz", "web")
    assert web.max_cvss == 10.0 and len(web.vulnerabilities) == 2
    assert inv.host("nothere") == [] and inv.user("nobody") is None


def test_yaml_inventory_with_identities_and_changes(tmp_path):
    text = """
assets:
  - host: fs01.corp.example
    ip: [10.0.2.5]
    criticality: high
    tags: [files]
    vulnerabilities: [{cve: CVE-2017-0144, cvss: 8.1}]
identities:
  - user: carol
    department: HR
    privileged: true
changes:
  - host: FS01
    time: "2025-02-19T22:00:00Z"
    description: SMBv1 re-enabled
    by: bob
"""
    inv = load_inventory(_write(tmp_path / "assets.yaml", text))
    fs = inv.host("fs01")[0]
    assert fs.criticality == "high" and fs.vulnerabilities[0].cvss == 8.1
    assert [c.description for c in fs.changes] == ["SMBv1 re-enabled"]
    assert inv.user("carol").privileged


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("host,criticality\nws1,huge\n", "row 2 (ws1): criticality 'huge'"),
        ("host,ip\nws1,10.0.0.300\n", "row 2 (ws1): ip '10.0.0.300' is not an IP"),
        ("host,vulnerabilities\nws1,CVE-2020-1:5\n", "is not a CVE id"),
        ("host,vulnerabilities\nws1,CVE-2020-1472:11\n", "outside 0-10"),
        ("host,user,privileged\n,bob,maybe\n", "row 2 (bob): privileged 'maybe'"),
        ("host,owner\nws1,a,b,c\n", "row 2 (ws1): more values than header columns"),
        ("host,owner\n,\n", "row 2: neither host nor user"),
        ("name,owner\nws1,a\n", "needs a 'host' or 'user' column"),
        ("", "empty file"),
    ],
)
def test_bad_csv_rows_are_named_in_one_clear_error(tmp_path, text, expected):
    with pytest.raises(InputError) as err:
        load_inventory(_write(tmp_path / "assets.csv", text))
    assert expected in str(err.value)


def test_bad_yaml_is_an_input_error(tmp_path):
    for text, expected in (
        ("assets: [{host: a, criticality: nope}]", "assets[0] (a): criticality"),
        ("assets: {host: a}", "'assets' must be a list"),
        ("servers: []", "unknown sections"),
        ("assets: [1]", "assets[0]: expected a mapping"),
        ("a: [", "not valid YAML"),
    ):
        with pytest.raises(InputError) as err:
            load_inventory(_write(tmp_path / "a.yaml", text))
        assert expected in str(err.value)
    with pytest.raises(InputError, match="not found"):
        load_inventory(tmp_path / "missing.csv")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_load_or_fail_with_input_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("inv") / "assets.csv"
    path.write_bytes(b"host,ip,criticality,user,privileged,vulnerabilities\n" + data)
    with contextlib.suppress(InputError):
        load_inventory(path)


def test_intel_files_in_simple_formats(tmp_path):
    txt = _write(
        tmp_path / "iocs.txt", "# bad stuff\nevil.example\n198.51.100.7 # c2\nnot a thing\n"
    )
    csv = _write(
        tmp_path / "iocs.csv",
        "indicator,type,confidence,source,tags\n"
        "http://phish.example/login,url,90,feedA,phishing\n"
        "44d88612fea8a8f36de82e1278abb02f,md5,150,feedB,\n",
    )
    js = _write(tmp_path / "iocs.json", json.dumps({"c2.example": {"confidence": 60}}))
    stix = _write(tmp_path / "bundle.json", json.dumps({"type": "bundle", "objects": []}))
    ctx = load_intel([txt, csv, js, stix])
    assert ctx.lookup("EVIL.example.").kind == "domain"
    assert ctx.lookup("198.51.100.7").kind == "ip"
    assert ctx.lookup("phish.example").confidence == 90
    assert ctx.lookup("c2.example").confidence == 60
    assert any("not a thing" in p for p in ctx.problems)
    assert any("outside 0-100" in p for p in ctx.problems)  # confidence 150 rejected
    assert any("STIX/MISP" in s for s in ctx.files_skipped)


def test_enrichment_lands_in_the_finding_and_its_ocsf_form(tmp_path):
    inv = load_inventory(_write(tmp_path / "assets.csv", CSV))
    intel = load_intel([_write(tmp_path / "iocs.txt", "evil.example\n")])
    enricher = Enricher(inv, intel)
    f = _finding(
        Entity("host", "web01"),
        Entity("user", "adm-bob"),
        Entity("domain", "evil.example"),
        explanation={"intel": [{"indicator": "x", "confidence": 95, "source": "misp"}]},
    )
    block = enricher.enrich(f)
    assert block["criticality"] == "high"
    assert block["assets"][0]["labels"] == ["dmz", "web"]
    assert block["identities"][0]["privileged"] is True
    assert {i["indicator"] for i in block["intel"]} == {"evil.example", "x"}
    out = f.to_ocsf()["unmapped"]["explanation"]["enrichment"]
    assert out == block


def test_unknown_host_is_unknown_and_recent_changes_are_windowed(tmp_path):
    text = (
        "assets:\n  - host: app01\n    criticality: low\n"
        "changes:\n"
        f"  - {{host: app01, time: {T0 - 2 * DAY}, description: patched}}\n"
        f"  - {{host: app01, time: {T0 - 30 * DAY}, description: old}}\n"
    )
    enricher = Enricher(load_inventory(_write(tmp_path / "a.yml", text)))
    assert enricher.enrich(_finding(Entity("host", "other")))["criticality"] == "unknown"
    block = enricher.enrich(_finding(Entity("host", "APP01")))
    assert [c["description"] for c in block["assets"][0]["recent_changes"]] == ["patched"]


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_an_ip_the_inventory_knows_names_its_host_for_correlation(tmp_path):
    enricher = Enricher(load_inventory(_write(tmp_path / "assets.csv", CSV)))
    f = _finding(Entity("ip", "10.0.1.22"), Entity("domain", "tunnel.example"))
    block = enricher.enrich(f)
    assert Entity("host", "ws01") in f.entities
    assert block["resolved"] == {"ip:10.0.1.22": "host:ws01"}
    assert block["criticality"] == "medium"
    unknown = _finding(Entity("ip", "192.0.2.1"))
    assert "resolved" not in enricher.enrich(unknown) and len(unknown.entities) == 1
