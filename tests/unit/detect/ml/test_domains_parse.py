"""Domain parsing: validation, IDN/punycode, registered domains, DNS views off events."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.detect.ml.domains import dns_view, named_domain, parse_domain


@pytest.mark.parametrize(
    ("raw", "registered", "name", "suffix", "subdomain"),
    [
        ("www.example.com", "example.com", "example", "com", "www"),
        ("WWW.EXAMPLE.CO.UK.", "example.co.uk", "example", "co.uk", "www"),
        ("  a.b.c.example.org  ", "example.org", "example", "org", "a.b.c"),
        ("_ldap._tcp.dc.corp.example.net", "example.net", "example", "net", "_ldap._tcp.dc.corp"),
        ("host.corp.local", "local", "local", "", "host.corp"),
        ("wpad", "wpad", "wpad", "", ""),
    ],
)
def test_registered_domain(raw, registered, name, suffix, subdomain):
    p = parse_domain(raw)
    assert p.ok, p.reason
    assert (p.registered, p.name, p.suffix, p.subdomain) == (registered, name, suffix, subdomain)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (".", "empty"),
        ("10.1.2.3", "ip address"),
        ("fe80::1", "ip address"),
        ("[2001:db8::1]", "ip address"),
        ("com", "no registrable domain (public suffix only)"),
        ("co.uk", "no registrable domain (public suffix only)"),
        ("a..example.com", "empty label"),
        ("exa mple.com", "invalid characters"),
        ("example.com:443", "invalid characters"),
        ("x" * 64 + ".com", "label longer than 63 characters"),
        ("a." * 130 + "com", "name too long (263 > 253 characters)"),
        ("\x00evil.com", "invalid characters"),
    ],
)
def test_invalid_names_have_a_reason(raw, reason):
    p = parse_domain(raw)
    assert p.status == "invalid"
    assert p.reason == reason
    assert not p.scorable


@pytest.mark.parametrize("value", [None, 42, 4.2, True, {"a": 1}, ["x.com"], b"x.com"])
def test_non_text_values(value):
    p = parse_domain(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        assert p.suffix == ""  # read as text: a bare label with no public suffix
    else:
        assert p.reason == "not a name"


def test_idn_is_punycoded_and_flagged():
    p = parse_domain("bücher.example.de")
    assert p.ok and p.idn
    assert p.text == "xn--bcher-kva.example.de"
    assert p.unicode == "bücher.example.de"
    assert p.scorable  # the registered label "example" is plain ASCII

    q = parse_domain("xn--80ak6aa92e.com")  # Cyrillic look-alike
    assert q.ok and q.idn and not q.scorable
    assert q.unicode == "\u0430\u0440\u0440\u04cf\u0435.com"


def test_undecodable_idn():
    assert parse_domain("\u200b.com").reason == "undecodable internationalized name"


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_parse_never_raises_and_is_consistent(text):
    p = parse_domain(text)
    assert p.status in ("ok", "invalid")
    if p.ok:
        assert p.text == p.text.lower()
        assert not p.text.endswith(".")
        assert len(p.text) <= 253
        assert p.registered.endswith(p.suffix)
        assert p.name and p.registered.startswith(p.name)
    else:
        assert p.reason


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True), min_size=1, max_size=5),
    st.sampled_from(["com", "co.uk", "de", "xyz", "ru"]),
)
def test_ldh_names_round_trip(labels, suffix):
    name = ".".join(labels) + "." + suffix
    p = parse_domain(name.upper() + ".")
    assert p.ok
    assert p.text == name
    assert p.registered == f"{labels[-1]}.{suffix}"


def test_dns_view_from_ocsf():
    ocsf = {
        "class_uid": 4003,
        "query": {"hostname": "abc.example.com", "type": "TXT"},
        "rcode": "NXDomain",
        "rcode_id": 3,
        "src_endpoint": {"ip": "10.0.0.5"},
        "answers": [{"rdata": "v=spf1 -all"}],
    }
    v = dns_view(ocsf, {})
    assert v is not None
    assert (v.query, v.qtype, v.rcode, v.querier, v.answers) == (
        "abc.example.com",
        "TXT",
        "NXDOMAIN",
        "10.0.0.5",
        1,
    )
    assert v.size == len("abc.example.com") + len("v=spf1 -all")


def test_dns_view_from_zeek_fields():
    fields = {
        "query": "x.example.org",
        "qtype_name": "A",
        "rcode_name": "NOERROR",
        "id.orig_h": "192.168.1.7",
        "answers": ["1.2.3.4", "5.6.7.8"],
    }
    v = dns_view({}, fields)
    assert v is not None and (v.querier, v.answers, v.rcode) == ("192.168.1.7", 2, "NOERROR")


def test_named_domain_from_http_and_tls():
    http = named_domain(
        {
            "http_request": {"url": {"hostname": "cdn.example.com:8080"}},
            "src_endpoint": {"ip": "10.1.1.1"},
        },
        {},
    )
    assert http is not None and not http.is_dns
    assert (http.query, http.querier) == ("cdn.example.com", "10.1.1.1")
    tls = named_domain({}, {"server_name": "api.example.net", "id.orig_h": "10.2.2.2"})
    assert tls is not None and tls.query == "api.example.net"
    assert named_domain({"class_uid": 1007}, {"Image": "x"}) is None


@pytest.mark.parametrize(
    "ocsf",
    [
        None,
        [],
        "x",
        {"query": "oops"},
        {"query": {"hostname": 7}},
        {"answers": "bad"},
        {"query": {"hostname": "-"}},
    ],
)
def test_dns_view_tolerates_garbage(ocsf):
    out = dns_view(ocsf, {"query": None, "answers": {"a": 1}})
    assert out is None or isinstance(out.query, str)
