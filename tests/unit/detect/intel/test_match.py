"""Matching events against indicators, and the findings the ``intel`` detector makes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from garrison.core.events import Event, Provenance
from garrison.detect.intel.detector import IntelDetector, IntelOptions
from garrison.detect.intel.loader import load_intel_files
from garrison.detect.intel.match import Matcher
from garrison.detect.intel.model import Indicator, IntelSet

GOLDEN = Path(__file__).resolve().parents[3] / "golden" / "intel"
T2024 = 1_709_251_300_000  # 2024-03-01
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _event(i: int, ocsf: Any = None, fields: Any = None, time: int = T2024) -> Event:
    prov = Provenance("t.log", "jsonl", i, "fp", 0)
    return Event(f"e{i}", 0, time + i, ocsf or {}, fields or {}, "", prov)


def _intel(*indicators: Indicator) -> IntelSet:
    intel = IntelSet()
    for ind in indicators:
        intel.add(ind)
    return intel


def _values(intel: IntelSet, ocsf: Any = None, fields: Any = None) -> list[tuple[str, str, str]]:
    return [(h.kind, h.value, h.field) for h in Matcher(intel).match(ocsf or {}, fields or {})]


def test_a_listed_domain_covers_subdomains_never_parents() -> None:
    intel = _intel(Indicator("domain", "evil.example.com", "f"))
    assert _values(intel, {"query": {"hostname": "A.B.Evil.Example.COM."}}) == [
        ("domain", "evil.example.com", "query.hostname")
    ]
    assert _values(intel, {"query": {"hostname": "evil.example.com"}})
    assert not _values(intel, {"query": {"hostname": "example.com"}})
    assert not _values(intel, {"query": {"hostname": "notevil.example.com"}})
    assert not _values(intel, {"query": {"hostname": "evil.example.com.attacker.net"}})


def test_names_from_flat_fields_http_tls_and_url_hosts() -> None:
    intel = _intel(Indicator("domain", "evil.example.com", "f"))
    assert _values(intel, fields={"query": "x.evil.example.com"})[0][2] == "query"
    assert _values(intel, fields={"server_name": "evil.example.com"})[0][2] == "server_name"
    assert _values(intel, {"http_request": {"url": {"hostname": "evil.example.com:8080"}}})
    hit = _values(intel, fields={"url": "https://cdn.evil.example.com/x"})
    assert hit == [("domain", "evil.example.com", "url (host)")]
    # OCSF first: the flat field is not read again when the OCSF path holds a value
    both = _values(
        intel, {"query": {"hostname": "evil.example.com"}}, {"query": "evil.example.com"}
    )
    assert len(both) == 1


def test_urls_match_in_canonical_form_only_exactly() -> None:
    intel = _intel(Indicator("url", "http://drop.example.org/payload", "f"))
    for seen in (
        "HTTP://Drop.Example.ORG:80/payload/",
        "http://drop.example.org/payload",
        "http://drop.example.org/payload#x",
    ):
        assert _values(intel, {"http_request": {"url": {"url_string": seen}}}), seen
    for seen in (
        "http://drop.example.org/payload?id=1",
        "http://drop.example.org/Payload",
        "https://drop.example.org/payload",
        "http://drop.example.org:8080/payload",
    ):
        assert not _values(intel, {"http_request": {"url": {"url_string": seen}}}), seen


def test_ips_hashes_and_emails() -> None:
    intel = _intel(
        Indicator("ip", "203.0.113.66", "f"),
        Indicator("ip", "2001:db8::1", "f"),
        Indicator("hash", MD5, "f"),
        Indicator("hash", SHA256, "f"),
        Indicator("email", "billing@invoices.example.biz", "f"),
    )
    assert _values(intel, {"dst_endpoint": {"ip": "203.0.113.66"}}) == [
        ("ip", "203.0.113.66", "dst_endpoint.ip")
    ]
    assert _values(intel, fields={"id.orig_h": "2001:DB8:0::1"})[0][1] == "2001:db8::1"
    sysmon = {"Hashes": f"SHA1=AA,MD5={MD5.upper()},SHA256=00,IMPHASH=11"}
    assert _values(intel, fields=sysmon) == [("hash", MD5, "Hashes")]
    ocsf = {"process": {"file": {"hashes": [{"algorithm": "SHA-256", "value": SHA256}]}}}
    assert _values(intel, ocsf) == [("hash", SHA256, "process.file.hashes")]
    assert _values(intel, fields={"sha256": SHA256.upper()})
    mail = {"email": {"from": "Billing Dept <BILLING@invoices.example.biz>"}}
    assert _values(intel, mail) == [("email", "billing@invoices.example.biz", "email.from")]
    assert not _values(intel, {"src_endpoint": {"ip": "203.0.113.67"}})


def _run(intel: IntelSet, events: list[Event]) -> list:
    det = IntelDetector(intel, IntelOptions(max_evidence=3))
    assert det.observe(events) == []
    return det.finish()


def test_validity_windows_against_the_event_time() -> None:
    ind = Indicator("ip", "203.0.113.66", "f", valid_from=T2024, valid_until=T2024 + 1000)
    ev = lambda i, t: _event(i, {"dst_endpoint": {"ip": "203.0.113.66"}}, time=t)  # noqa: E731
    assert not _run(_intel(ind), [ev(1, T2024 - 10_000), ev(2, T2024 + 5_000)])
    (finding,) = _run(_intel(ind), [ev(1, T2024 - 10_000), ev(2, T2024)])
    assert [e.event_uid for e in finding.evidences] == ["e2"]
    # an event time outside 2000-2100 cannot be compared: matched, and said so
    (finding,) = _run(_intel(ind), [ev(3, 13_180)])
    assert "validity windows not applied" in finding.explanation["validity"]


def test_revoked_and_deleted_and_context_only_never_detect() -> None:
    intel = load_intel_files([GOLDEN / "bundle.json", GOLDEN / "misp_event.json"])
    events = [
        _event(1, {"query": {"hostname": "revoked.example.com"}}),  # STIX revoked
        _event(2, {"query": {"hostname": "www.cdn.example.com"}}),  # MISP to_ids false
        _event(3, {"dst_endpoint": {"ip": "192.0.2.99"}}),  # MISP deleted
        _event(4, {"query": {"hostname": "gone.example.com"}}),  # MISP deleted object
        _event(5, {"query": {"hostname": "later.example.com"}}),  # WITHIN: unsupported
    ]
    det = IntelDetector(intel)
    det.observe(events)
    assert det.finish() == []
    assert det.stats()["context_only_matches"] == 1


def test_one_finding_per_indicator_and_actor_with_repeats_folded() -> None:
    intel = load_intel_files([GOLDEN / "bundle.json"])
    q = "x.c2-staging.example.net"
    events = [
        _event(i, {"query": {"hostname": q}, "device": {"hostname": "WS1"}}) for i in range(5)
    ] + [_event(9, {"query": {"hostname": q}, "src_endpoint": {"ip": "10.0.0.7"}})]
    findings = _run(intel, events)
    assert len(findings) == 2
    ws1 = next(f for f in findings if any(e.value == "ws1" for e in f.entities))
    assert ws1.count == 5 and len(ws1.evidences) == 3  # max_evidence
    assert ws1.title == "Threat intel: domain c2-staging.example.net (bundle.json)"
    assert ws1.confidence == 85 and ws1.explanation["confidence_source"] == "feed"
    assert [a.technique_uid for a in ws1.attacks] == ["T1071.004"]
    assert ws1.attacks[0].tactic_name == "Command and Control"
    assert ws1.severity_id == 4  # related malware / threat actor
    assert [(e.kind, e.value) for e in ws1.entities] == [
        ("domain", "c2-staging.example.net"),
        ("host", "ws1"),
    ]
    entry = ws1.explanation["intel"][0]
    assert entry["id"] == "indicator--a1f2c3d4-0001-4a5b-8c9d-000000000001"
    assert entry["source"] == "bundle.json" and entry["matched_fields"] == ["query.hostname"]
    assert {r["name"] for r in entry["related"]} == {"GarrisonTestLoader", "Example Spider"}
    assert entry["created"] and entry["modified"] and entry["labels"] == ["malicious-activity"]


def test_defaults_are_stated() -> None:
    intel = _intel(Indicator("hash", MD5, "iocs.txt"), Indicator("ip", "203.0.113.5", "x"))
    events = [
        _event(1, fields={"md5": MD5}),
        _event(2, {"dst_endpoint": {"ip": "203.0.113.5"}}),
    ]
    by_kind = {f.explanation["matched"]["kind"]: f for f in _run(intel, events)}
    h, ip = by_kind["hash"], by_kind["ip"]
    assert h.confidence == 70 and "default 70" in h.explanation["confidence_source"]
    assert h.attacks[0].technique_uid == "T1204.002" and h.severity_id == 4
    assert "default" in h.explanation["attack_source"]
    assert ip.attacks[0].technique_uid == "T1071" and ip.severity_id == 3


def test_severity_from_labels_and_threat_level() -> None:
    benign = Indicator("ip", "203.0.113.1", "f", labels=("benign",))
    odd = Indicator("ip", "203.0.113.2", "f", labels=("anomalous-activity",))
    high = Indicator("ip", "203.0.113.3", "f", threat_level=1)
    events = [_event(i, {"dst_endpoint": {"ip": f"203.0.113.{i}"}}) for i in (1, 2, 3)]
    got = {
        f.explanation["matched"]["indicator"]: f.severity_id
        for f in _run(_intel(benign, odd, high), events)
    }
    assert got == {"203.0.113.1": 1, "203.0.113.2": 2, "203.0.113.3": 4}


HOSTILE = [
    _event(1, "not a dict", None),
    _event(2, {"query": {"hostname": None}}, {"query": None}),
    _event(3, {"query": {"hostname": "x" * 5000 + ".c2-staging.example.net"}}, {"query": "\x00"}),
    _event(4, {"src_endpoint": "oops", "dst_endpoint": [1, 2]}, {"id.orig_h": "1.2.3.4"}),
    _event(5, {"process": {"file": {"hashes": "x"}}}, {"Hashes": "=,==,MD5="}),
    _event(6, {"process": {"file": {"hashes": [None, 1, {"value": 5}]}}}, {"md5": 5}),
    _event(7, {"http_request": {"url": {"url_string": "http://[::1/x"}}}, {"url": "http://a:b"}),
    _event(8, {"email": {"from": ["list"]}}, {"from": "<<@@>>"}),
    _event(9, {"query": {"hostname": "\udcff.c2-staging.example.net"}}),
]


def test_hostile_events_never_raise() -> None:
    intel = load_intel_files([GOLDEN / "bundle.json", GOLDEN / "misp_event.json"])
    det = IntelDetector(intel)
    det.observe(HOSTILE)
    det.finish()
    assert det.stats()["events_seen"] == len(HOSTILE)
    assert det.stats().get("events_failed", 0) == 0
