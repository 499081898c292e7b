"""Canonical forms shared by the feed readers and the event matcher."""

from __future__ import annotations

import pytest

from garrison.detect.intel.values import (
    canon_domain,
    canon_email,
    canon_hash,
    canon_ip,
    canon_url,
    classify,
    url_host,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://Evil.Example:80/Gate.php", "http://evil.example/Gate.php"),
        ("https://evil.example:443/", "https://evil.example"),
        ("https://evil.example", "https://evil.example"),
        ("https://evil.example:8443/a/", "https://evil.example:8443/a"),
        ("http://evil.example/a/?q=1#frag", "http://evil.example/a?q=1"),
        ("evil.example/x", "http://evil.example/x"),
        ("http://user:pw@evil.example/x", "http://evil.example/x"),
        ("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
        ("http://10.0.0.1:8080/x", "http://10.0.0.1:8080/x"),
    ],
)
def test_url_normalisation(raw: str, expected: str) -> None:
    assert canon_url(raw) == expected


def test_url_path_case_and_query_are_kept() -> None:
    assert canon_url("http://a.example/X?Y=1") != canon_url("http://a.example/x?y=1")
    assert url_host(canon_url("http://[2001:db8::1]:81/x")) == "2001:db8::1"
    assert url_host(canon_url("http://A.example:81/x")) == "a.example"


@pytest.mark.parametrize(
    "raw", ["", "http://", "http://exa mple.com/", "http://a.example:99999/", "ftp:///x"]
)
def test_bad_urls_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        canon_url(raw)


def test_ips_domains_hashes_emails() -> None:
    assert canon_ip(" 10.0.0.1/32") == "10.0.0.1"
    assert canon_ip("[2001:DB8:0::1]") == "2001:db8::1"
    assert canon_ip("fe80::1%eth0") == "fe80::1"
    with pytest.raises(ValueError, match="CIDR"):
        canon_ip("10.0.0.0/24")
    assert canon_domain("Evil.Example.COM.") == "evil.example.com"
    assert canon_domain("münchen.de") == "xn--mnchen-3ya.de"
    for bad in ("com", "co.uk", "10.0.0.1", "a..b.com", "localhost", "x" * 300 + ".com"):
        with pytest.raises(ValueError):
            canon_domain(bad)
    assert canon_hash("D41D8CD98F00B204E9800998ECF8427E") == "d41d8cd98f00b204e9800998ecf8427e"
    with pytest.raises(ValueError):
        canon_hash("abc")
    assert canon_email('"Billing" <Billing@Invoices.Example.BIZ>') == "billing@invoices.example.biz"
    with pytest.raises(ValueError):
        canon_email("no-at-sign.example.com")


def test_classify_keeps_urls_as_urls_and_refuses_ranges() -> None:
    assert classify("http://Evil.example/x") == ("url", "http://evil.example/x")
    assert classify("evil.example/x") == ("url", "http://evil.example/x")
    assert classify("a" * 64) == ("hash", "a" * 64)
    assert classify("bob@evil.example") == ("email", "bob@evil.example")
    assert classify("Evil.example") == ("domain", "evil.example")
    assert classify("10.0.0.0/24") is None
    assert classify("not a thing") is None
