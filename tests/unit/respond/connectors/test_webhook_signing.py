"""The webhook signature scheme as a receiver verifies it (``verify_signature``), the body
as sent, and URL rules: https, or http to loopback only with ``allow_http``."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from garrison.respond.connectors.base import Delivery
from garrison.respond.connectors.webhook import (
    SIGNATURE,
    TIMESTAMP,
    body_of,
    check_url,
    signed_headers,
    verify_signature,
)

DELIVERY = Delivery(
    "isolate.host", {"host": "web01", "reason": "r"}, "k-9", "pb", "cut",
    {"uid": "i-1", "kind": "incident", "title": "t\u202e", "risk": 90},
)  # fmt: skip


def test_signature_verifies_and_detects_tampering() -> None:
    body = body_of(DELIVERY)
    headers = signed_headers("s3cret", DELIVERY.key, body, now=1_000_000)
    assert verify_signature("s3cret", headers, body, now=1_000_010)
    lower = {k.lower(): v for k, v in headers.items()}
    assert verify_signature("s3cret", lower, body, now=1_000_010)
    assert not verify_signature("other", headers, body, now=1_000_010)
    assert not verify_signature("s3cret", headers, body.replace(b"web01", b"web02"), now=1_000_010)
    assert not verify_signature("s3cret", headers, body, now=1_000_000 + 301)  # replay
    moved = {**headers, TIMESTAMP: "1000005"}
    assert not verify_signature("s3cret", moved, body, now=1_000_010)
    assert not verify_signature("s3cret", {k: v for k, v in headers.items() if k != SIGNATURE},
                                body, now=1_000_010)  # fmt: skip


def test_scheme_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    body = body_of(DELIVERY)
    headers = signed_headers("s3cret", "k-9", body, now=42)
    expected = hmac.new(b"s3cret", b"42." + body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE] == f"v1={expected}" and headers[TIMESTAMP] == "42"
    assert headers["Idempotency-Key"] == "k-9"


def test_body_holds_what_the_receiver_needs_and_no_more() -> None:
    doc = json.loads(body_of(DELIVERY))
    assert doc == {
        "action": "isolate.host", "params": {"host": "web01", "reason": "r"}, "key": "k-9",
        "playbook": "pb", "step": "cut", "undo": False,
        "subject": {"uid": "i-1", "kind": "incident", "title": "t\u202e"},
    }  # fmt: skip
    assert body_of(DELIVERY).isascii()


@pytest.mark.parametrize(
    ("url", "allow_http", "ok"),
    [
        ("https://hooks.example.org/x", False, True),
        ("http://127.0.0.1:8080/x", True, True),
        ("http://[::1]/x", True, True),
        ("http://localhost/x", True, True),
        ("http://127.0.0.1/x", False, False),
        ("http://hooks.example.org/x", True, False),
        ("file:///etc/passwd", True, False),
        ("ftp://x.org/", False, False),
        ("https://user:pw@x.org/", False, False),
        ("https:///nohost", False, False),
        ("https://x.org:99999/", False, False),
        ("https://x.org/a b", False, False),
        ("https://x.org/\r\nHost: evil", False, False),
        ("https://x.org/é", False, False),
    ],
)
def test_url_rules(url: str, allow_http: bool, ok: bool) -> None:
    if ok:
        check_url(url, allow_http=allow_http)
    else:
        with pytest.raises(ValueError) as err:
            check_url(url, allow_http=allow_http)
        assert "pw" not in str(err.value)


@given(st.binary(), st.text(min_size=1), st.integers(0, 2**33))
def test_any_body_round_trips(body: bytes, secret: str, now: int) -> None:
    headers = signed_headers(secret, "k", body, now=now)
    assert verify_signature(secret, headers, body, now=now)
    assert not verify_signature(secret, headers, body + b"x", now=now)


@pytest.mark.parametrize("key", ["k\r\nX-Evil: 1", "k\x00", "clé-ü"])
def test_an_unsafe_key_never_becomes_a_header(key: str) -> None:
    from garrison.respond.connectors.base import ConnectorError
    from garrison.respond.connectors.safe import Secret
    from garrison.respond.connectors.webhook import Webhook, WebhookOptions

    hook = Webhook("h", WebhookOptions("https://h.example.org/", "S"), Secret("s", "S"))
    delivery = Delivery("notify.webhook", {"connector": "h"}, key)
    with pytest.raises(ConnectorError, match="not printable ASCII"):
        hook.check(delivery)
    with pytest.raises(ConnectorError, match="not printable ASCII"):
        hook.send(delivery)  # refused before any connection is made
