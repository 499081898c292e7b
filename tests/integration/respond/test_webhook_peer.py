"""The webhook connector against a real HTTP server on loopback: signed requests with the
idempotency key, retries with backoff after 503s, no retry after a 400, a refused
connection retryable, and the ticket-webhook sink reading the peer's ticket id."""

from __future__ import annotations

import pytest

from garrison.core.options import OptionsError
from garrison.respond.connectors.base import ConnectorError, Delivery
from garrison.respond.connectors.config import load_connectors
from garrison.respond.connectors.webhook import IDEMPOTENCY, SIGNATURE, TIMESTAMP
from garrison.respond.perform import perform
from garrison.respond.retry import with_retries
from tests.integration.respond.peers import HttpPeer, free_port, make_tls

ENV = {"HOOK_SECRET": "peer-secret"}


def _hook(url: str, kind: str = "webhook", **extra: object):
    table = {"type": kind, "url": url, "secret_env": "HOOK_SECRET", "allow_http": True, **extra}
    return load_connectors({"oncall": table}, env=ENV)["oncall"]


def _delivery(key: str = "k-1", **params: object) -> Delivery:
    return Delivery(
        "notify.webhook",
        {"connector": "oncall", "message": "Critical on web01", **params},
        key,
        playbook="isolate-host-critical",
        step="page",
        subject={"uid": "inc-1", "kind": "incident", "title": "evil\r\nX-Injected: 1", "x": 1},
    )


def test_send_is_signed_and_carries_the_key() -> None:
    with HttpPeer() as peer:
        receipt = _hook(peer.url).send(_delivery())
    assert receipt.reference == "HTTP 200"
    (req,) = peer.requests
    assert req.signed and req.path == "/hook/token-in-path"
    assert req.headers[IDEMPOTENCY] == "k-1"
    assert req.headers[TIMESTAMP].isdigit() and req.headers[SIGNATURE].startswith("v1=")
    doc = req.json
    assert doc["action"] == "notify.webhook" and doc["key"] == "k-1"
    assert doc["subject"] == {"uid": "inc-1", "kind": "incident", "title": "evil\r\nX-Injected: 1"}
    assert "X-Injected" not in req.headers
    assert "token-in-path" not in receipt.detail  # only the origin is shown


def test_a_wrong_secret_is_refused_by_the_receiver() -> None:
    with HttpPeer(secret="another") as peer, pytest.raises(ConnectorError) as err:
        _hook(peer.url).send(_delivery())
    assert not peer.requests[0].signed
    assert "401" in err.value.reason and not err.value.retryable
    assert "peer-secret" not in err.value.reason


def test_retries_with_backoff_after_503_then_succeeds() -> None:
    slept: list[float] = []
    with HttpPeer(statuses=[503, 503]) as peer:
        hook = _hook(peer.url)
        outcome = with_retries(lambda: hook.send(_delivery()), 4, 0.5, 10, sleep=slept.append)
    assert outcome.ok and outcome.receipt is not None
    assert [r.status for r in peer.requests] == [503, 503, 200]
    assert [a.ok for a in outcome.attempts] == [False, False, True]
    assert slept == [0.5, 1.0]
    assert all(a.retryable for a in outcome.attempts[:2])
    assert peer.executed == ["k-1"]
    assert {r.headers[IDEMPOTENCY] for r in peer.requests} == {"k-1"}


def test_real_sleep_between_retries_is_observed_by_the_peer() -> None:
    with HttpPeer(statuses=[503]) as peer:
        hook = _hook(peer.url)
        outcome = with_retries(lambda: hook.send(_delivery()), 3, 0.2, 1.0)
    assert outcome.ok
    first, second = peer.requests
    assert second.at - first.at >= 0.19


def test_no_retry_after_a_400() -> None:
    with HttpPeer(statuses=[400]) as peer:
        hook = _hook(peer.url)
        outcome = with_retries(lambda: hook.send(_delivery()), 5, 0, 0)
    assert not outcome.ok and len(outcome.attempts) == 1 and len(peer.requests) == 1
    assert outcome.error is not None and not outcome.error.retryable
    assert "400" in outcome.reason


def test_429_and_500_are_retryable() -> None:
    with HttpPeer(statuses=[429, 500]) as peer:
        hook = _hook(peer.url)
        outcome = with_retries(lambda: hook.send(_delivery()), 3, 0, 0)
    assert outcome.ok and [r.status for r in peer.requests] == [429, 500, 200]


def test_refused_connection_is_retryable() -> None:
    hook = _hook(f"http://127.0.0.1:{free_port()}/x")
    with pytest.raises(ConnectorError) as err:
        hook.send(_delivery())
    assert err.value.retryable


def test_timeout_is_retryable() -> None:
    import socket

    with socket.socket() as silent:  # accepts (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        hook = _hook(f"http://127.0.0.1:{port}/x", timeout=0.3)
        with pytest.raises(ConnectorError) as err:
            hook.send(_delivery())
    assert err.value.retryable


def test_check_sends_nothing() -> None:
    with HttpPeer() as peer:
        receipt = _hook(peer.url).check(_delivery())
    assert peer.requests == [] and receipt.reference == "dry-run"
    assert "signed bytes" in receipt.detail


def test_perform_routes_notify_webhook_by_its_connector_param() -> None:
    with HttpPeer() as peer:
        connectors = {"oncall": _hook(peer.url)}
        dry = perform(_delivery(), connectors, {}, live=False)
        live = perform(_delivery(), connectors, {}, live=True)
    assert dry.reference == "dry-run" and live.reference == "HTTP 200"
    assert len(peer.requests) == 1


def test_ticket_webhook_takes_the_peers_id_and_undo_is_flagged() -> None:
    opened = Delivery("ticket.open", {"queue": "soc"}, "t-1", subject={"title": "High"})
    with HttpPeer(reply=b'{"id": "SOC-42"}') as peer:
        sink = _hook(peer.url, kind="ticket-webhook")
        receipt = perform(opened, {"tk": sink}, {"tickets": "tk"}, live=True)
        closed = Delivery("ticket.open", {"queue": "soc"}, "t-1", undo=True)
        undo = perform(closed, {"tk": sink}, {"tickets": "tk"}, live=True)
    assert receipt.reference == "SOC-42" and undo.detail.startswith("closed")
    assert [r.json["undo"] for r in peer.requests] == [False, True]


def test_https_with_an_internal_ca(tmp_path) -> None:
    tls = make_tls(tmp_path)
    with HttpPeer(tls=tls) as peer:
        trusted = _hook(peer.url, allow_http=False, ca_file=tls.ca_file)
        assert trusted.send(_delivery()).reference == "HTTP 200"
        untrusted = _hook(peer.url, allow_http=False)
        with pytest.raises(ConnectorError) as err:
            untrusted.send(_delivery())
    assert "TLS" in err.value.reason and not err.value.retryable
    assert len(peer.requests) == 1 and peer.requests[0].signed


def test_ca_file_must_be_pem(tmp_path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate", encoding="utf-8")
    with pytest.raises(OptionsError, match=r"ca_file: .* holds no PEM certificate"):
        _hook("https://x.example.org/", ca_file=str(bad))
    with pytest.raises(OptionsError, match="ca_file: cannot read"):
        _hook("https://x.example.org/", ca_file=str(tmp_path / "absent.pem"))
