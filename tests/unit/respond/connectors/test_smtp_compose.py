"""The SMTP message as composed: hostile subject, title, message and key text can never
add a header or end the header block; recipients must be plain addresses; SMTP options
refuse a password over plain text."""

from __future__ import annotations

import email
import email.policy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from garrison.core.options import OptionsError
from garrison.respond.connectors.base import Delivery
from garrison.respond.connectors.config import load_connectors
from garrison.respond.connectors.smtp import compose, message_id

HEADERS = {"from", "to", "subject", "message-id", "date", "x-garrison-key", "content-type",
           "content-transfer-encoding", "mime-version"}  # fmt: skip
_hostile = st.one_of(
    st.text(),
    st.tuples(st.text(max_size=20), st.sampled_from(["\r\n", "\n", "\r", "\r\n\r\n"]),
              st.sampled_from(["Bcc: x@evil.example", "To: y@evil.example", ""]),
              st.text(max_size=20)).map("".join),
)  # fmt: skip


@given(_hostile, _hostile, _hostile, _hostile)
def test_hostile_text_never_adds_a_header(subject: str, title: str, message: str, key: str) -> None:
    delivery = Delivery(
        "notify.email",
        {"to": ["soc@example.org"], "subject": subject, "message": message},
        key,
        "pb",
        "tell",
        {"title": title, "uid": "u", "kind": "finding"},
    )
    raw = compose(delivery, "garrison@example.org").as_bytes()
    head, sep, _ = raw.partition(b"\n\n")
    assert sep
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert {k.lower() for k in parsed} == HEADERS
    assert parsed["To"] == "soc@example.org" and parsed["From"] == "garrison@example.org"
    assert parsed["Message-ID"] == message_id(key, "garrison@example.org")
    for line in head.split(b"\n"):
        assert line[:1] in (b" ", b"\t") or line.split(b":", 1)[0].lower().decode() in HEADERS


def test_message_id_is_stable_and_safe() -> None:
    one = message_id("key\r\nBcc: x", "a@example.org")
    assert one == message_id("key\r\nBcc: x", "a@example.org") != message_id("k2", "a@example.org")
    assert one.startswith("<") and one.endswith("@example.org>") and "\n" not in one


def test_bad_recipient_is_refused() -> None:
    delivery = Delivery("notify.email", {"to": "a@example.org\r\nBcc: x@y.org"}, "k")
    with pytest.raises(ValueError):
        compose(delivery, "g@example.org")


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ({"security": "none", "username": "u", "password_env": "PW"}, "never sent in clear"),
        ({"username": "u"}, "go together"),
        ({"security": "tls"}, "security"),
        ({"sender": "not an address"}, "sender"),
        ({"password_env": "PW", "username": "u"}, "PW is not set"),
    ],
)
def test_smtp_options_refused(extra: dict[str, object], match: str) -> None:
    table = {"type": "smtp", "host": "mail.example.org", "sender": "g@example.org", **extra}
    with pytest.raises(OptionsError, match=match):
        load_connectors({"mail": table}, env={})


def test_password_is_read_from_env_and_never_shown() -> None:
    table = {"type": "smtp", "host": "mail.example.org", "sender": "g@example.org",
             "username": "garrison", "password_env": "PW"}  # fmt: skip
    conn = load_connectors({"mail": table}, env={"PW": "hunter2"})["mail"]
    assert "hunter2" not in repr(conn) and "hunter2" not in str(conn)
