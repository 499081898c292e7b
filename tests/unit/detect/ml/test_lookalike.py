"""ml.lookalike: matching transformations, thresholds, and the detector on events."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.core.events import Event, Provenance
from garrison.detect.ml.domains import parse_domain
from garrison.detect.ml.lookalike.confusables import skeleton
from garrison.detect.ml.lookalike.detector import LookalikeDetector, LookalikeOptions
from garrison.detect.ml.lookalike.match import (
    Matcher,
    describe_edit,
    load_brands,
    org_protected,
    osa_distance,
)

T0 = 1_740_000_000_000


def matcher(*org: str) -> Matcher:
    brands = load_brands()
    prot = [p for p in (org_protected(d, "test") for d in org) if p is not None]
    return Matcher(prot + brands.brands, brands.keywords)


def why(m: Matcher, name: str) -> tuple[str, str, int] | None:
    found = m.match(parse_domain(name))
    return None if found is None else (found.protected.label, found.transformation, found.distance)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("paypa1.com", ("paypal", "homoglyph", 1)),
        ("xn--pple-43d.com", ("apple", "homoglyph", 1)),  # Cyrillic a, punycode
        ("rnicrosoft.com", ("microsoft", "homoglyph", 2)),
        ("pay-pal.com", ("paypal", "hyphenation", 1)),
        ("paypal-login.com", ("paypal", "combo", 1)),
        ("secure-paypalverify.net", ("paypal", "combo", 2)),
        ("apple-id-verify.com", ("appleid", "combo", 1)),
        ("gooogle.com", ("google", "typo", 1)),
        ("paypal.com.account-check.net", ("paypal", "subdomain", 0)),
        ("paypal.info", ("paypal", "tld-swap", 0)),
    ],
)
def test_brand_transformations(name: str, expected: tuple[str, str, int]) -> None:
    assert why(matcher(), name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "paypal.com",  # the brand itself
        "www.google.de",  # brands own their country-code domains
        "googleusercontent.com",  # owned
        "microsoftonline.com",  # owned
        "ample.com",  # dictionary-word brand: no edit distance
        "snapple.com",  # nor glued words
        "appleinsider.com",  # a word after "apple" that is no phishing keyword
        "groups.com",
        "live.com",  # another brand's own name is not a typo of "line"
        "docs.google.com",
    ],
)
def test_brand_non_matches(name: str) -> None:
    assert why(matcher(), name) is None


def test_organisation_rules_are_wider_than_brand_rules() -> None:
    m = matcher("contoso.com", "brightwater.local")
    assert why(m, "contoso-login.com") == ("contoso", "combo", 1)
    assert why(m, "contosohr.com") == ("contoso", "combo", 1)  # any added word for the org
    assert why(m, "c0ntoso.com") == ("contoso", "homoglyph", 1)
    assert why(m, "contso.com") == ("contoso", "typo", 1)
    assert why(m, "contoso.net") == ("contoso", "tld-swap", 0)
    assert why(m, "contoso.com") is None and why(m, "mail.contoso.com") is None
    # a near miss of the internal name with a word added: the demo's phishing domain
    assert why(m, "docs.brlghtwaterhealth.com") == ("brightwater", "combo", 1)
    assert why(m, "brightwater.sharepoint.com") is None  # tenant names on a brand's domain


def test_thresholds_by_length() -> None:
    m = matcher()
    assert why(m, "amazan.com") == ("amazon", "typo", 1)  # 6 letters: one edit
    assert why(m, "amzaon.com") == ("amazon", "typo", 1)  # a swap is one edit
    assert why(m, "amazzan.com") is None  # two edits on six letters: too far
    assert why(m, "wellsfarrgoo.com") == ("wellsfargo", "typo", 2)  # 10 letters: two edits
    assert why(m, "fedx.com") is None  # under 6 letters: no edit distance for brands


def test_osa_distance_and_edit_words() -> None:
    assert osa_distance("paypal", "paypal", 2) == 0
    assert osa_distance("payapl", "paypal", 2) == 1  # transposition
    assert osa_distance("ca", "abc", 5) == 3  # OSA, not unrestricted DL
    assert osa_distance("short", "muchlongerword", 2) == 3  # cut off at limit + 1
    assert describe_edit("brlght", "bright") == "'l' for 'i' at position 3"
    assert describe_edit("gooogle", "google") == "'o' added at position 2"
    assert describe_edit("gogle", "google") == "'o' left out at position 2"
    assert describe_edit("paypla", "paypal") == "'al' swapped at position 5"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdefghij", max_size=8), st.text(alphabet="abcdefghij", max_size=8))
def test_osa_is_symmetric_and_bounded(a: str, b: str) -> None:
    d = osa_distance(a, b, 20)
    assert d == osa_distance(b, a, 20)
    assert abs(len(a) - len(b)) <= d <= max(len(a), len(b))
    assert (d == 0) == (a == b)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_matching_never_raises(text: str) -> None:
    matcher().match(parse_domain(text + ".com"))
    skeleton(text)


# -- the detector on events ---------------------------------------------------------------


def dns(
    i: int, query: str, rcode: str = "NOERROR", client: str = "10.0.0.5", answers: str = ""
) -> Event:
    fields = {
        "query": query,
        "rcode_name": rcode,
        "id.orig_h": client,
        "id.resp_h": "10.0.0.1",
        "answers": answers or "-",
    }
    ocsf = {"class_uid": 4003, "query": {"hostname": query}, "src_endpoint": {"ip": client}}
    return Event(
        f"d{i}", 4003, T0 + i * 1000, ocsf, fields, "", Provenance("dns.log", "zeek", i, "fp", 0)
    )


def win(i: int, computer: str) -> Event:
    fields = {"Computer": computer, "EventID": 1, "Channel": "Security"}
    ocsf = {"device": {"hostname": computer}}
    return Event(f"w{i}", 1007, T0, ocsf, fields, "", Provenance("w.json", "jsonl", i, "fp", 0))


def test_detector_reports_one_finding_per_lookalike_domain_with_its_entities() -> None:
    det = LookalikeDetector(LookalikeOptions(protected_domains=("contoso.com",)))
    events = [
        dns(1, "docs.c0ntoso.com", answers="93.184.216.34,10.1.1.1"),
        dns(2, "cdn.c0ntoso.com", client="10.0.0.6"),
        dns(3, "www.contoso.com"),
        dns(4, "www.example.org"),
    ]
    assert det.observe(events) == []
    (f,) = det.finish()
    keys = {e.key() for e in f.entities}
    assert {"domain:docs.c0ntoso.com", "domain:cdn.c0ntoso.com", "domain:c0ntoso.com"} <= keys
    assert {"ip:10.0.0.5", "ip:10.0.0.6", "ip:93.184.216.34"} <= keys
    assert "ip:10.1.1.1" not in keys  # private answers and the resolver are not named
    assert "ip:10.0.0.1" not in keys
    assert [e.event_uid for e in f.evidences] == ["d1", "d2"]
    assert f.severity_id == 4 and f.analytic_uid == "ml.lookalike"
    assert f.explanation["transformation"] == "homoglyph"
    assert f.explanation["protected"]["label"] == "contoso"
    assert {a.technique_uid for a in f.attacks} == {"T1583.001", "T1566"}


def test_unresolved_lookups_are_not_reported() -> None:
    det = LookalikeDetector()
    det.observe([dns(1, "gooogle.com", rcode="NXDOMAIN"), dns(2, "paypa1.com", rcode="SERVFAIL")])
    assert det.finish() == []
    assert det.stats()["unresolved"] == 2
    det = LookalikeDetector()
    det.observe([dns(1, "gooogle.com")])
    (f,) = det.finish()
    assert f.severity_id == 3 and "Google" in f.title


def test_internal_domain_is_learnt_from_host_names() -> None:
    events = [win(i, f"WS-{i}.brightwater.local") for i in range(3)]
    events.append(dns(9, "docs.brlghtwaterhealth.com", answers="194.19.211.158"))
    det = LookalikeDetector()
    det.observe(events)
    (f,) = det.finish()
    assert f.explanation["protected"]["label"] == "brightwater"
    assert "learnt" in f.explanation["protected"]["source"]
    assert "ip:194.19.211.158" in {e.key() for e in f.entities}
    # too few hosts: nothing learnt, nothing reported
    det = LookalikeDetector(LookalikeOptions(learn_min_hosts=5))
    det.observe(events)
    assert det.finish() == []


def test_email_sender_and_url_hosts_are_read() -> None:
    fields = {"from": "Billing <billing@paypal-verify.com>", "url": "https://rnicrosoft.com/x"}
    event = Event("m1", 4009, T0, {}, fields, "", Provenance("mail.json", "jsonl", 1, "fp", 0))
    det = LookalikeDetector()
    det.observe([event])
    found = {f.explanation["domain"]: f.explanation["seen_in"] for f in det.finish()}
    assert found == {"paypal-verify.com": ["email"], "rnicrosoft.com": ["url"]}
