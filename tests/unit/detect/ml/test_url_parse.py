"""URL parsing on hostile input: never raises, every input gets a defined status."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.detect.ml.url.lexical import LEXICAL, brands, lexical_matrix
from garrison.detect.ml.url.ngrams import decode, hashed
from garrison.detect.ml.url.parse import MAX_URL, parse_url
from garrison.detect.ml.url.train import standardizer


@pytest.mark.parametrize(
    ("raw", "host", "registered", "rest"),
    [
        ("http://www.example.com/", "example.com", "example.com", ""),
        ("https://WWW.Example.co.uk/a/b/", "example.co.uk", "example.co.uk", "/a/b"),
        ("example.com/login.php?x=1&amp;y=2", "example.com", "example.com", "/login.php?x=1&y=2"),
        ("example.com:8080/x", "example.com", "example.com", "/x"),
        ("//evil.example.org/x#frag", "evil.example.org", "example.org", "/x"),
        ("hxxp://evil.example.org/", "evil.example.org", "example.org", ""),
        ("http://a.b.c.example.tk/?email=victim@corp.example", "a.b.c.example.tk", "example.tk",
         "?email=u@mail.example"),
    ],
)  # fmt: skip
def test_normalization(raw: str, host: str, registered: str, rest: str) -> None:
    p = parse_url(raw)
    assert p.ok, p.reason
    assert (p.host, p.registered, p.rest) == (host, registered, rest)


def test_scheme_and_www_do_not_change_the_key() -> None:
    keys = {
        parse_url(u).key
        for u in (
            "http://www.shop.example.com/a/",
            "https://shop.example.com/a",
            "shop.example.com/a/",
            "HTTPS://www.SHOP.example.com/a",
        )
    }
    assert len(keys) == 1


def test_user_info_trick() -> None:
    p = parse_url("http://paypal.com@evil.example.net/signin")
    assert p.ok and p.userinfo and p.registered == "example.net"


@pytest.mark.parametrize(
    ("raw", "ip"),
    [("http://192.168.1.5/a", True), ("http://[2001:db8::1]:8080/x", True),
     ("http://3232235777/", True), ("http://0xc0a80001/", True), ("http://example.com", False)],
)  # fmt: skip
def test_ip_hosts(raw: str, ip: bool) -> None:
    p = parse_url(raw)
    assert p.ok and p.ip is ip


def test_idn_host_becomes_punycode() -> None:
    p = parse_url("http://p\u0430ypal.com/login")  # Cyrillic a
    assert p.ok and p.idn and p.host.startswith("xn--")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (None, "not a URL"),
        (["x"], "not a URL"),
        (b"http://\xff\xfe/", "not valid UTF-8"),
        ("javascript:alert(1)", "unsupported scheme: javascript"),
        ("mailto:a@example.com", "unsupported scheme: mailto"),
        ("http://a b.com/", "control characters or spaces inside the URL"),
        ("http://x.com/\x00", "control characters or spaces inside the URL"),
        ("http://" + "a" * MAX_URL, f"URL longer than {MAX_URL} characters"),
        ("http:///", "no host"),
        ("http://[::1/", "unterminated IPv6 address"),
        ("http://example.com:99999/", "invalid port"),
        ("http://exa$mple.com/", "host has invalid characters"),
        ("http://a..b.com/", "host: empty label"),
    ],
)
def test_invalid(raw: object, reason: str) -> None:
    p = parse_url(raw)
    assert not p.ok and p.status == "invalid"
    assert p.reason == reason


def test_hostile_urls_still_featurise() -> None:
    urls = [
        parse_url(u)
        for u in (
            "http://" + "a." * 100 + "com/" + "%41" * 500,
            "http://secure-login.paypal.com.verify.example.tk//x/../../?a=1&b=2&c=3",
            "http://[::1]/",
            "http://xn--80ak6aa92e.com/",
            "localhost",
        )
    ]
    assert all(u.ok for u in urls), [u.reason for u in urls]
    x = lexical_matrix(urls)
    assert x.shape == (5, len(LEXICAL))
    assert (x == x).all()  # no NaN
    row = dict(zip(LEXICAL, x[1].tolist(), strict=True))
    assert row["brand_in_subdomain"] == 1.0 and row["tld_free"] == 1.0
    assert row["double_slash_in_path"] == 1.0 and row["host_suspicious_words"] > 0


def test_ngrams_roundtrip() -> None:
    buckets, weight, packed = hashed(["ab", ""], (3, 5), 12, 0, with_codes=True)
    assert packed is not None and buckets.shape == packed.shape and weight.shape == (2,)
    grams = [decode(int(p)) for p in packed[0] if p >= 0]
    assert grams == ["^ab", "ab$", "^ab$"]
    assert (buckets[1] == 1 << 12).all()  # an empty part has no n-gram: zero-weight slot


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.binary(max_size=300),
        st.builds(
            lambda s, h, p: f"{s}{h}{p}",
            st.sampled_from(["", "http://", "https://", "//", "ftp://", "x:", "http:/"]),
            st.text(alphabet="abcxyz019.-@:[]%_", max_size=40),
            st.text(max_size=60),
        ),
    )
)
def test_property_never_raises(raw: object) -> None:
    p = parse_url(raw)
    assert p.status in ("ok", "invalid")
    if p.ok:
        assert p.host and not p.reason
        x = lexical_matrix([p])
        assert x.shape == (1, len(LEXICAL)) and (x == x).all()
    else:
        assert p.reason


@pytest.mark.parametrize(
    ("text", "registered", "named"),
    [
        ("secure-paypal-login", "evil.example", True),  # distinctive brand, glued
        ("paypal", "paypal.com", False),  # the brand's own domain
        ("paypal", "microsoft.com", False),  # a listed brand's domain names others freely
        ("11.tlu.dl.delivery.mp", "evil.example", False),  # "live" inside a word
        ("live.login", "evil.example", True),  # dictionary-word brand as a whole token
        ("appleid", "evil.example", True),
    ],
)
def test_brand_mentions(text: str, registered: str, named: bool) -> None:
    assert brands().named(text, registered) is named


def test_binary_features_are_not_standardized() -> None:
    lex = np.array([[0.0, 1.0], [0.0, 3.0], [1.0, 2.0], [0.0, 2.0]])
    mean, scale = standardizer(lex)
    assert (mean[0], scale[0]) == (0.0, 1.0)
    assert mean[1] == 2.0 and scale[1] > 0
