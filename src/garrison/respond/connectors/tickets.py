"""Ticket sinks: a JSON-lines file (``type = "ticket-file"``) or a webhook
(``type = "ticket-webhook"``, the ``webhook`` options).

The file sink is the ticket system of a site without one, and the record a ticketing
integration can tail::

    [respond.connectors.tickets]
    type = "ticket-file"
    path = "/var/lib/garrison/tickets.jsonl"

Each line is one JSON object: ``{"record": "open", "ticket": "GAR-…", "key": …, "queue": …,
"title": …, "priority": …, "subject": {…}, "playbook": …, "step": …, "at": …}``; the undo
appends ``{"record": "close", …}``. Exactly once: under an exclusive ``flock`` the file is
read, and an ``open`` with the same idempotency key already there is not written again (the
same ticket id is returned); each write is flushed and ``fsync``-ed before the lock is
released. The ticket id is derived from the key, so a retry after a crash names the same
ticket. The webhook sink posts the delivery (signed, with ``Idempotency-Key``) and takes
the ticket id from a JSON ``{"id": …}`` answer, else the derived id.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from garrison.core.options import option
from garrison.core.text import visible
from garrison.respond.connectors.base import ConnectorError, Delivery, Receipt
from garrison.respond.connectors.webhook import Webhook


def ticket_id(key: str) -> str:
    """``GAR-`` and 12 hex digits of the key's SHA-256: stable across retries."""
    return "GAR-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]


@dataclass(slots=True)
class TicketFileOptions:
    path: str = option(nonempty=True)


def _record(delivery: Delivery, kind: str) -> dict[str, Any]:
    params = delivery.params
    subject = {k: delivery.subject.get(k) for k in ("uid", "kind", "title")}
    record: dict[str, Any] = {
        "record": kind,
        "ticket": ticket_id(delivery.key),
        "key": delivery.key,
    }
    if kind == "open":
        record |= {
            "queue": params.get("queue"),
            "title": params.get("title") or subject["title"],
            "priority": params.get("priority"),
            "subject": subject,
            "playbook": delivery.playbook,
            "step": delivery.step,
        }
    record["at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return record


@dataclass(slots=True)
class TicketFile:
    name: str
    options: TicketFileOptions
    kind: str = "ticket-file"

    @property
    def path(self) -> Path:
        return Path(self.options.path)

    def check(self, delivery: Delivery) -> Receipt:
        folder = self.path.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise ConnectorError(f"ticket-file {self.name}: cannot write in {visible(folder)}")
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise ConnectorError(f"ticket-file {self.name}: {visible(self.path)} is read-only")
        verb = "close" if delivery.undo else "open"
        return Receipt(ticket_id(delivery.key), f"would {verb} it in {visible(self.path)}")

    def send(self, delivery: Delivery) -> Receipt:
        tid = ticket_id(delivery.key)
        try:
            with self._locked() as fh:
                seen = _records(fh, delivery.key)
                if delivery.undo:
                    if "open" not in seen:
                        raise ConnectorError(f"ticket-file {self.name}: no ticket {tid} to close")
                    if "close" in seen:
                        return Receipt(tid, "already closed")
                    _append(fh, _record(delivery, "close"))
                    return Receipt(tid, "closed")
                if "open" in seen:
                    return Receipt(tid, "already open (same idempotency key)")
                _append(fh, _record(delivery, "open"))
                return Receipt(tid, f"opened in {visible(self.path.name)}")
        except OSError as exc:
            raise ConnectorError(
                f"ticket-file {self.name}: {visible(self.path)}: {exc.strerror}", retryable=True
            ) from None

    @contextmanager
    def _locked(self) -> Iterator[IO[str]]:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
        with os.fdopen(fd, "r+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield fh
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _records(fh: IO[str], key: str) -> set[str]:
    """The record kinds (open, close) already written for ``key``. A line that is not a
    JSON object (a torn write from before an fsync) is passed over."""
    fh.seek(0)
    kinds = set()
    for line in fh:
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and doc.get("key") == key:
            kinds.add(str(doc.get("record")))
    return kinds


def _append(fh: IO[str], record: dict[str, Any]) -> None:
    fh.seek(0, os.SEEK_END)
    text = json.dumps(record, ensure_ascii=True, sort_keys=True, default=list)
    fh.write(("\n" if fh.tell() and not _ends_with_newline(fh) else "") + text + "\n")
    fh.flush()
    os.fsync(fh.fileno())


def _ends_with_newline(fh: IO[str]) -> bool:
    fd = fh.fileno()
    size = os.fstat(fd).st_size
    return size == 0 or os.pread(fd, 1, size - 1) == b"\n"


@dataclass(slots=True)
class TicketWebhook:
    """Tickets through a webhook: the delivery is posted; the peer's ``{"id": …}`` is the
    ticket reference (else the id derived from the key)."""

    name: str
    hook: Webhook
    kind: str = "ticket-webhook"

    def check(self, delivery: Delivery) -> Receipt:
        receipt = self.hook.check(delivery)
        return Receipt(ticket_id(delivery.key), receipt.detail)

    def send(self, delivery: Delivery) -> Receipt:
        response = self.hook.post(delivery)
        tid = ticket_id(delivery.key)
        try:
            doc = json.loads(response.body or b"null")
        except ValueError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("id"), str | int):
            tid = visible(doc["id"], 80)
        verb = "closed" if delivery.undo else "opened"
        return Receipt(tid, f"{verb} via {self.hook.where} (HTTP {response.status})")


def build_webhook(name: str, hook: Webhook) -> TicketWebhook:
    return TicketWebhook(name, hook)


def build_file(name: str, options: TicketFileOptions) -> TicketFile:
    return TicketFile(name, options)
