"""The connector contract every transport keeps, and the errors the engine maps to a
recorded failed step (``retryable`` errors are retried with backoff first)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


class ConnectorError(Exception):
    """A connector could not do what was asked. ``reason`` is one line safe to record (no
    secrets, attacker text already made visible); ``retryable`` says whether the same call
    may succeed later (a timeout, a 5xx, a refused connection) or never will (a 4xx, a
    rejected recipient, an invalid rule)."""

    def __init__(self, reason: str, *, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class Delivery:
    """One action as a connector sees it: what to do, with which (rendered, checked)
    parameters, under which idempotency key, for which subject.

    ``key`` is stable across retries and restarts: a peer that can deduplicate (an HTTP
    ``Idempotency-Key`` header, an e-mail Message-ID, a ticket id) is given it so that a
    retry after a crash is recognised as the same action.
    """

    action: str
    params: Mapping[str, Any]
    key: str
    playbook: str = ""
    step: str = ""
    #: A summary of the finding or incident that triggered the action (uid, kind, title,
    #: risk, entities, enrichment): attacker-influenced text, never interpreted.
    subject: Mapping[str, Any] = field(default_factory=dict)
    #: True when this delivery undoes an earlier one (same key as the original).
    undo: bool = False


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a connector reports back: a reference at the peer (a ticket id, an HTTP status,
    a rule handle, a Message-ID) and a one-line detail."""

    reference: str
    detail: str = ""


@runtime_checkable
class Connector(Protocol):
    """A configured transport. ``name`` is its table name in the configuration, ``kind``
    its type (``webhook``, ``smtp``, ``nftables``, ``command``, ``ticket-file``, ``memory``)."""

    name: str
    kind: str

    def check(self, delivery: Delivery) -> Receipt:
        """Dry run: validate everything ``send`` would do without doing it."""
        ...

    def send(self, delivery: Delivery) -> Receipt:
        """Do it. Raises ``ConnectorError`` on failure."""
        ...
