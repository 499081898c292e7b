"""The SMTP connector against a real aiosmtpd server on loopback: the dry run verifies each
recipient and delivers nothing; a send delivers one message whose headers hostile subject
text cannot extend; a refused recipient and a dead server are errors of the right kind."""

from __future__ import annotations

import email
import email.policy

import pytest

from garrison.core.text import visible
from garrison.respond.connectors.base import ConnectorError, Delivery
from garrison.respond.connectors.config import load_connectors
from garrison.respond.connectors.smtp import message_id
from garrison.respond.perform import perform
from tests.integration.respond.peers import SmtpPeer, free_port, make_tls

pytest.importorskip("aiosmtpd", reason="aiosmtpd (test extra) is the local SMTP peer")

HOSTILE = "Blocked 10.0.0.1\r\nBcc: attacker@evil.example\r\n\r\nfake body"


def _mailer(port: int, **extra: object):
    table = {
        "type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "garrison@example.org",
        "timeout": 5,
        **extra,
    }
    return load_connectors({"mail": table}, env={})["mail"]


def _delivery(to: object = ("soc@example.org", "lead@example.org"), **params: object) -> Delivery:
    return Delivery(
        "notify.email",
        {"to": to, "subject": HOSTILE, **params},
        "key-42",
        playbook="block-ip",
        step="tell",
        subject={"uid": "f-1", "kind": "finding", "title": "title\nX-Evil: yes"},
    )


def test_check_verifies_every_recipient_and_sends_nothing() -> None:
    with SmtpPeer() as peer:
        receipt = perform(_delivery(), {"mail": _mailer(peer.port)}, {"mail": "mail"}, live=False)
    assert peer.rcpts == ["soc@example.org", "lead@example.org"]
    assert peer.messages == []
    assert "2 recipient(s) accepted" in receipt.detail


def test_check_fails_on_a_refused_recipient() -> None:
    with SmtpPeer(refuse={"gone.example"}) as peer, pytest.raises(ConnectorError) as err:
        _mailer(peer.port).check(_delivery(("soc@example.org", "x@gone.example")))
    assert "550" in err.value.reason and not err.value.retryable
    assert peer.messages == []


def test_send_delivers_one_message_with_safe_headers() -> None:
    with SmtpPeer() as peer:
        receipt = perform(_delivery(), {"mail": _mailer(peer.port)}, {"mail": "mail"}, live=True)
    (mail,) = peer.messages
    assert sorted(mail.rcpts) == ["lead@example.org", "soc@example.org"]
    msg = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert "\n" not in str(msg["Subject"]) and "\\r\\n" in str(msg["Subject"])
    assert msg["Message-ID"] == message_id("key-42", "garrison@example.org") == receipt.reference
    headers = {k.lower() for k in msg}
    assert headers <= {
        "from", "to", "subject", "message-id", "date", "x-garrison-key", "content-type",
        "content-transfer-encoding", "mime-version", "x-peer", "x-mailfrom", "x-rcptto",
    }  # fmt: skip
    # the body's first line is the subject text, shown (escaped), not obeyed
    assert msg.get_content().splitlines()[0] == visible(HOSTILE)


def test_all_recipients_refused_is_not_retryable() -> None:
    with SmtpPeer(refuse={"gone.example"}) as peer, pytest.raises(ConnectorError) as err:
        _mailer(peer.port).send(_delivery("x@gone.example"))
    assert not err.value.retryable and peer.messages == []


def test_no_server_is_retryable() -> None:
    with pytest.raises(ConnectorError) as err:
        _mailer(free_port()).send(_delivery())
    assert err.value.retryable


def test_a_hostile_recipient_never_reaches_the_server() -> None:
    with SmtpPeer() as peer, pytest.raises(ConnectorError) as err:
        perform(
            _delivery("soc@example.org>\r\nRCPT TO:<x@evil.example"),
            {"mail": _mailer(peer.port)},
            {"mail": "mail"},
            live=True,
        )
    assert not err.value.retryable and "parameter to" in err.value.reason
    assert peer.rcpts == [] and peer.messages == []


def test_starttls_and_login_against_an_internal_ca(tmp_path) -> None:
    tls = make_tls(tmp_path)
    extra = {"security": "starttls", "username": "garrison", "password_env": "PW",
             "ca_file": tls.ca_file}  # fmt: skip
    table = {"type": "smtp", "host": "127.0.0.1", "sender": "garrison@example.org", **extra}
    with SmtpPeer(tls=tls, login=("garrison", "right horse")) as peer:
        table["port"] = peer.port
        good = load_connectors({"m": table}, env={"PW": "right horse"})["m"]
        good.send(_delivery("soc@example.org"))
        bad = load_connectors({"m": table}, env={"PW": "wrong"})["m"]
        with pytest.raises(ConnectorError) as err:
            bad.check(_delivery("soc@example.org"))
    assert len(peer.messages) == 1
    # smtplib tries each offered mechanism (PLAIN, LOGIN) before giving up
    assert peer.logins[0] == ("garrison", True) and peer.logins[1:]
    assert all(not ok for _, ok in peer.logins[1:])
    assert "authentication failed" in err.value.reason and not err.value.retryable
    assert "wrong" not in err.value.reason and "right horse" not in err.value.reason


def test_starttls_refuses_an_untrusted_server(tmp_path) -> None:
    tls = make_tls(tmp_path)
    with SmtpPeer(tls=tls) as peer:
        conn = _mailer(peer.port, security="starttls")
        with pytest.raises(ConnectorError) as err:
            conn.send(_delivery("soc@example.org"))
    assert "TLS" in err.value.reason and not err.value.retryable and peer.messages == []


def test_implicit_tls(tmp_path) -> None:
    tls = make_tls(tmp_path)
    with SmtpPeer(tls=tls, implicit=True) as peer:
        conn = _mailer(peer.port, security="ssl", ca_file=tls.ca_file)
        conn.check(_delivery("soc@example.org"))
        conn.send(_delivery("soc@example.org"))
    assert peer.rcpts == ["soc@example.org", "soc@example.org"] and len(peer.messages) == 1


def test_a_server_without_starttls_is_a_permanent_error() -> None:
    # no TLS context: the peer does not offer STARTTLS
    with SmtpPeer() as peer, pytest.raises(ConnectorError) as err:
        _mailer(peer.port, security="starttls").check(_delivery("soc@example.org"))
    assert "STARTTLS" in err.value.reason and not err.value.retryable and peer.rcpts == []
