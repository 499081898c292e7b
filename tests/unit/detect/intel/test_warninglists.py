"""Warning lists: over-broad indicators are refused at load time, named, counted, never matched.

Regression for the hunt where ``cloudfront.net`` in an IOC list matched 37 events of one
capture (every CloudFront customer) and ``8.8.8.8`` matched 133.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.core.options import OptionsError, load_options
from garrison.detect.intel.detector import IntelOptions
from garrison.detect.intel.loader import load_intel_files
from garrison.detect.intel.match import Matcher
from garrison.detect.intel.model import Indicator, IntelSet
from garrison.detect.intel.warninglists import ALL_LISTS, WarningLists, default_lists

REFUSED = [
    # (kind, value, list)
    ("domain", "cloudfront.net", "public-suffix-list"),
    ("domain", "googleapis.com", "public-suffix-list"),
    ("domain", "co.uk", "public-suffix-list"),
    ("domain", "s3.amazonaws.com", "public-suffix-list"),
    ("domain", "my-lb.elb.amazonaws.com", "public-suffix-list"),  # under a wildcard rule
    ("domain", "amazonaws.com", "shared-hosting"),
    ("domain", "windows.net", "shared-hosting"),
    ("domain", "cdn.discordapp.com", "shared-hosting"),
    ("domain", "google.com", "tranco10k"),
    ("domain", "www.google.com", "tranco10k"),
    ("ip", "8.8.8.8", "public-dns-v4"),
    ("ip", "1.1.1.1", "public-dns-v4"),
    ("ip", "2001:4860:4860::8888", "public-dns-v6"),
    ("ip", "10.1.2.3", "rfc1918"),
    ("ip", "192.168.1.10", "rfc1918"),
    ("ip", "172.16.0.5", "rfc1918"),
    ("ip", "100.64.0.1", "rfc6598"),
    ("ip", "127.0.0.1", "special-use"),
    ("ip", "::1", "special-use"),
    ("ip", "0.0.0.0", "special-use"),  # noqa: S104 - a value under test, not a bind
    ("ip", "169.254.10.20", "special-use"),
    ("ip", "fe80::1", "ipv6-linklocal"),
    ("ip", "224.0.0.251", "special-use"),
    ("ip", "255.255.255.255", "special-use"),
    ("hash", "d41d8cd98f00b204e9800998ecf8427e", "empty-hashes"),
    ("url", "https://google.com", "tranco10k"),
    ("url", "http://cloudfront.net", "public-suffix-list"),
    ("url", "http://8.8.8.8", "public-dns-v4"),
]
KEPT = [
    ("domain", "evil.cloudfront.net"),
    ("domain", "evil-bucket.s3.amazonaws.com"),
    ("domain", "c2.evil.example"),
    ("domain", "evil.example.com"),
    ("ip", "203.0.113.66"),
    ("ip", "198.51.100.23"),
    ("hash", "0123456789abcdef0123456789abcdef"),
    ("url", "https://drive.google.com/file/d/abc"),
    ("url", "https://google.com/evil/path"),
    ("url", "http://evil.cloudfront.net"),
]


@pytest.mark.parametrize(("kind", "value", "list_name"), REFUSED)
def test_over_broad_indicators_are_refused_by_the_named_list(
    kind: str, value: str, list_name: str
) -> None:
    refusal = default_lists().check(kind, value)
    assert refusal is not None and refusal.list == list_name, refusal
    assert refusal.reason


@pytest.mark.parametrize(("kind", "value"), KEPT)
def test_specific_indicators_are_kept(kind: str, value: str) -> None:
    assert default_lists().check(kind, value) is None


def _feed(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "iocs.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_suppressed_indicators_never_match_and_are_counted(tmp_path: Path) -> None:
    feed = _feed(
        tmp_path,
        ["cloudfront.net", "evil.cloudfront.net", "8.8.8.8", "amazonaws.com", "203.0.113.66"],
    )
    intel = load_intel_files([feed])
    match = Matcher(intel).match
    assert match({"query": {"hostname": "d111111abcdef8.cloudfront.net"}}, {}) == []
    assert match({"query": {"hostname": "bucket.s3.amazonaws.com"}}, {}) == []
    assert match({"dst_endpoint": {"ip": "8.8.8.8"}}, {}) == []
    (hit,) = match({"query": {"hostname": "x.evil.cloudfront.net"}}, {})
    assert (hit.kind, hit.value) == ("domain", "evil.cloudfront.net")
    (hit,) = match({"dst_endpoint": {"ip": "203.0.113.66"}}, {})
    assert hit.value == "203.0.113.66"
    report = intel.report.to_json()
    assert report["suppressed"] == {
        "public-suffix-list": 1,
        "public-dns-v4": 1,
        "shared-hosting": 1,
    }
    assert report["suppressed_total"] == 3
    assert report["suppressed_lists"]["public-dns-v4"] == "List of known IPv4 public DNS resolvers"
    (example,) = report["suppressed_examples"]["public-dns-v4"]
    assert "ip 8.8.8.8" in example and "public DNS resolver" in example


def test_stix_and_misp_indicators_go_through_the_lists(tmp_path: Path) -> None:
    bundle = {
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-000000000001",
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--00000000-0000-4000-8000-00000000000{i}",
                "created": "2024-01-01T00:00:00Z",
                "modified": "2024-01-01T00:00:00Z",
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": "2024-01-01T00:00:00Z",
            }
            for i, pattern in enumerate(
                ["[domain-name:value = 'googleapis.com']", "[ipv4-addr:value = '1.1.1.1']"]
            )
        ],
    }
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    misp = {
        "Event": {
            "info": "x",
            "Attribute": [
                {"type": "ip-dst", "value": "192.168.0.7", "to_ids": True},
                {"type": "domain", "value": "evil.example.com", "to_ids": True},
            ],
        }
    }
    (tmp_path / "misp.json").write_text(json.dumps(misp))
    intel = load_intel_files([path, tmp_path / "misp.json"])
    assert dict(intel.report.suppressed) == {
        "public-suffix-list": 1,
        "public-dns-v4": 1,
        "rfc1918": 1,
    }
    assert len(intel) == 1


def test_lists_can_be_skipped_by_name(tmp_path: Path) -> None:
    feed = _feed(tmp_path, ["10.1.2.3", "8.8.8.8"])
    intel = load_intel_files([feed], skip_lists=["rfc1918"])
    assert intel.get("ip", "10.1.2.3") and not intel.get("ip", "8.8.8.8")
    opts = load_options(IntelOptions, {"warninglists_skip": ["rfc1918"]}, where="detectors.intel")
    assert opts.warninglists_skip == ("rfc1918",)
    with pytest.raises(OptionsError, match="not one of"):
        load_options(IntelOptions, {"warninglists_skip": ["nope"]}, where="detectors.intel")
    with pytest.raises(ValueError, match="unknown lists"):
        WarningLists(["nope"])


def test_every_list_loads_offline_and_is_not_empty() -> None:
    wl = default_lists()
    for name in ALL_LISTS:
        assert wl.describe(name)
    assert len(wl._exact["ip"]) > 10_000 and len(wl._exact["domain"]) > 10_000


_SHARED = ["cloudfront.net", "s3.amazonaws.com", "azurewebsites.net", "github.io", "appspot.com"]
_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(shared=st.sampled_from(_SHARED), customer=_LABEL, sub=st.lists(_LABEL, max_size=2))
def test_a_shared_host_never_matches_but_its_customers_do(
    shared: str, customer: str, sub: list[str]
) -> None:
    intel = IntelSet(warnings=default_lists())
    intel.add(Indicator("domain", shared, "feed"))
    intel.add(Indicator("domain", f"evil-{customer}.{shared}", "feed"))
    match = Matcher(intel).match
    other = ".".join([*sub, f"good-{customer}", shared])
    assert match({"query": {"hostname": other}}, {}) == []
    mine = ".".join([*sub, f"evil-{customer}", shared])
    hits = match({"query": {"hostname": mine}}, {})
    assert [h.value for h in hits] == [f"evil-{customer}.{shared}"]
    assert intel.report.suppressed["public-suffix-list"] == 1


def test_triage_intel_context_applies_the_same_lists(tmp_path: Path) -> None:
    """Triage raises a finding's risk when an entity is listed: 8.8.8.8 must not be."""
    from garrison.triage.enrich.intel import load_intel

    ctx = load_intel([_feed(tmp_path, ["8.8.8.8", "cloudfront.net", "203.0.113.9"])])
    assert ctx.lookup("8.8.8.8") is None and ctx.lookup("cloudfront.net") is None
    assert ctx.lookup("203.0.113.9") is not None
    assert any("public-dns-v4" in p for p in ctx.problems)
