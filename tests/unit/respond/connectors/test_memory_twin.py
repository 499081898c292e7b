"""The in-memory twin records checks and sends separately and fails as configured."""

from __future__ import annotations

import pytest

from garrison.respond.connectors.base import Connector, ConnectorError, Delivery
from garrison.respond.connectors.memory import Memory

D = Delivery("ticket.open", {"queue": "soc"}, "k1")


def test_records_checks_and_sends_apart() -> None:
    twin = Memory("t")
    assert isinstance(twin, Connector)
    twin.check(D)
    assert twin.checks == [D] and twin.sends == [] and twin.delivered == []
    receipt = twin.send(D)
    assert twin.delivered == ["k1"] and receipt.reference == "memory:t:1"


def test_fail_first_then_succeed() -> None:
    twin = Memory("t", fail_first=2)
    for _ in range(2):
        with pytest.raises(ConnectorError) as err:
            twin.send(D)
        assert err.value.retryable
    twin.send(D)
    assert len(twin.failures) == 2 and twin.delivered == ["k1"]


def test_always_failing_permanently() -> None:
    twin = Memory("t", fail="permanent")
    with pytest.raises(ConnectorError) as err:
        twin.send(D)
    assert not err.value.retryable and twin.sends == []
    twin.check(D)  # a dry run still works: the failure is the peer's, on send
    assert twin.checks == [D]
