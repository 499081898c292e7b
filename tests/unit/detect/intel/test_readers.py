"""Feed readers on the hand-written golden feeds (tests/golden/intel) and hostile files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from garrison.detect.intel.loader import load_intel_files
from garrison.detect.intel.model import IntelSet
from garrison.detect.intel.stix_pattern import Unsupported, compile_pattern, parse_pattern

GOLDEN = Path(__file__).resolve().parents[3] / "golden" / "intel"
SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _index(intel: IntelSet) -> dict[tuple[str, str], list]:
    return {(k, v): found for k, ix in intel.by_kind.items() for v, found in ix.items()}


def test_stix_bundle_golden() -> None:
    intel = load_intel_files([GOLDEN / "bundle.json"])
    got = _index(intel)
    assert sorted(got) == [
        ("domain", "c2-staging.example.net"),
        ("ip", "203.0.113.66"),
        ("ip", "203.0.113.67"),
        ("url", "http://drop.example.org/payload"),
    ]
    (c2,) = got["domain", "c2-staging.example.net"]
    assert (c2.confidence, c2.tlp, c2.attacks, c2.tactics) == (
        85,
        "amber",
        ("T1071.004",),
        ("command-and-control",),
    )
    assert [(r.type, r.name) for r in c2.related] == [
        ("malware", "GarrisonTestLoader"),
        ("threat-actor", "Example Spider"),
    ]
    assert c2.ref == "indicator--a1f2c3d4-0001-4a5b-8c9d-000000000001"
    assert c2.labels == ("malicious-activity",) and c2.modified.startswith("2024-02-03")
    (ip,) = got["ip", "203.0.113.66"]
    assert ip.attacks == ("T1105",)  # from the attack-pattern it indicates
    assert ip.valid_until is not None and ip.confidence is None
    assert dict(intel.report.unusable) == {
        "stix: revoked": 1,
        "stix: unsupported pattern: AND across observations": 1,
        "stix: unsupported pattern: MATCHES": 1,
        "stix: unsupported pattern: temporal qualifier": 1,
        "stix: pattern_type is not stix": 1,
    }
    # the SHA-256 of an empty file would match every empty file: refused by a warning list
    assert dict(intel.report.suppressed) == {"empty-hashes": 1}
    assert SHA256_EMPTY in intel.report.suppressed_examples["empty-hashes"][0]


def test_misp_event_golden() -> None:
    intel = load_intel_files([GOLDEN / "misp_event.json"])
    got = _index(intel)
    assert sorted(got) == [
        ("domain", "cdn.example.com"),
        ("domain", "login-portal.example.info"),
        ("email", "billing@invoices.example.biz"),
        ("ip", "192.0.2.44"),
    ]
    assert dict(intel.report.suppressed) == {"empty-hashes": 1}  # MD5 of an empty file
    assert not got["domain", "cdn.example.com"][0].detect  # to_ids false: context only
    assert all(found[0].detect for key, found in got.items() if key[1] != "cdn.example.com")
    (c2,) = got["ip", "192.0.2.44"]
    assert c2.feed_type == "misp:ip-dst|port" and c2.attacks == ("T1571",)
    assert c2.tlp == "green" and c2.threat_level == 1
    assert ("threat-actor", "Example Spider") in [(r.type, r.name) for r in c2.related]
    assert got["email", "billing@invoices.example.biz"][0].attacks == ("T1566.001",)
    assert dict(intel.report.unusable) == {
        "misp: attribute type not matched": 2,  # regkey, filename
        "misp: deleted object": 1,
        "misp: deleted attribute": 1,
        "misp: not an MD5/SHA-1/SHA-256/SHA-512 hex digest": 1,
    }


def test_misp_feed_folder_and_response_list(tmp_path: Path) -> None:
    intel = load_intel_files([GOLDEN / "misp_feed"])
    assert sorted(_index(intel)) == [
        ("domain", "relay.example.net"),
        ("ip", "198.51.100.23"),
        ("url", "https://files.example.net/a/b.zip"),
    ]
    event = json.loads((GOLDEN / "misp_event.json").read_text())
    resp = tmp_path / "search.json"
    resp.write_text(json.dumps({"response": [event, event["Event"], 7]}))
    intel = load_intel_files([resp])
    assert len(_index(intel)) == 4  # the empty-file MD5 is refused by a warning list
    assert intel.report.unusable["duplicate entry"] == 5  # the same event twice
    assert intel.report.unusable["misp: event is not an object"] == 1


def test_ioc_lists_typed_and_guessed(tmp_path: Path) -> None:
    csv = tmp_path / "iocs.csv"
    csv.write_text(
        "indicator,type,confidence,source,tags\n"
        "evil.example/dl,url,90,feedA,phishing;loader\n"
        "evil.example,domain,,feedB,\n"
        "10.0.0.1,ip,150,feedC,\n"
        "abc,md5,,feedD,\n"
    )
    intel = load_intel_files([GOLDEN / "iocs.txt", csv])
    got = _index(intel)
    assert sorted(got) == [
        ("domain", "beacon.example.org"),
        ("domain", "evil.example"),
        ("ip", "198.51.100.200"),
        ("url", "http://evil.example.com/Login"),
        ("url", "http://evil.example/dl"),
    ]
    (url,) = got["url", "http://evil.example/dl"]
    assert (url.confidence, url.source, url.labels) == (90, "feedA", ("phishing", "loader"))
    assert got["domain", "evil.example"][0].confidence is None  # default, said so later
    assert intel.report.unusable["ioc list: confidence"] == 1  # 150 refused
    assert any("hex digest" in k for k in intel.report.unusable)


def test_unreadable_files_are_reported_and_the_rest_loads(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"type": "bundle", "objects": [')
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9.example\n")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 5000 + "]" * 5000)
    intel = load_intel_files(
        [
            tmp_path / "missing.json",
            tmp_path / "bad.json",
            tmp_path / "latin1.txt",
            deep,
            GOLDEN / "iocs.txt",
        ]
    )
    failed = intel.report.files_failed
    assert "cannot read" in failed[str(tmp_path / "missing.json")]
    assert "not JSON" in failed[str(tmp_path / "bad.json")]
    assert "not UTF-8" in failed[str(tmp_path / "latin1.txt")]
    assert "not JSON" in failed[str(deep)]
    assert len(intel) == 3


@pytest.mark.parametrize(
    "pattern",
    [
        "[domain-name:value = 'evil.example']",
        "[ipv4-addr:value = '1.2.3.4' OR ipv6-addr:value = '2001:db8::1']",
        "[file:hashes.'SHA-256' = '"
        + SHA256_EMPTY
        + "'] OR [file:hashes.MD5 = '"
        + "a" * 32
        + "']",
        "([url:value = 'http://a.example/x'] OR [email-addr:value = 'x@a.example'])",
        "[ipv4-addr:value IN ('1.1.1.1', '2.2.2.2')]",
        "[domain-name:value = 'it\\'s.example']",
    ],
)
def test_supported_patterns_agree_on_both_paths(pattern: str) -> None:
    try:
        fast = compile_pattern(pattern)
    except Unsupported as exc:
        fast = [("unsupported", str(exc), "")]
    try:
        slow = parse_pattern(pattern)
    except Unsupported as exc:
        slow = [("unsupported", str(exc), "")]
    assert fast == slow


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("[file:hashes.MD5 = '" + "a" * 32 + "' AND file:name = 'x.exe']", "AND of comparisons"),
        ("[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'a.example']", "AND across"),
        ("[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.5']", "FOLLOWEDBY"),
        ("[domain-name:value MATCHES 'x']", "MATCHES"),
        ("[domain-name:value LIKE '%.example']", "LIKE"),
        ("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", "ISSUBSET"),
        ("[ipv4-addr:value != '1.2.3.4']", "!="),
        ("[ipv4-addr:value NOT IN ('1.2.3.4')]", "NOT IN"),
        ("[ipv4-addr:value = '1.2.3.4'] REPEATS 3 TIMES", "temporal"),
        (
            "[ipv4-addr:value = '1.2.3.4']"
            " START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'",
            "temporal",
        ),
        ("[ipv4-addr:value = '10.0.0.0/24']", "CIDR"),
        ("[ipv4-addr:value = '2001:db8::1']", "other IP version"),
        ("[process:name = 'evil.exe']", "object path"),
        ("[file:size = 10]", "non-string literal"),
        ("[domain-name:value = 'a.example'", "not a valid STIX pattern"),
    ],
)
def test_inexact_patterns_are_refused(pattern: str, reason: str) -> None:
    with pytest.raises(Unsupported, match=reason):
        compile_pattern(pattern)


def test_deeply_nested_pattern_is_refused_not_a_crash() -> None:
    with pytest.raises(Unsupported):
        compile_pattern("(" * 3000 + "[domain-name:value = 'a.example']" + ")" * 3000)
