"""In-memory connector twins for the engine's tests: every call recorded, failures on demand.

``Memory`` keeps the ``check`` and ``send`` deliveries it was given, in order, so a test
asserts what the engine asked for (and that a dry run sent nothing). ``fail_first = N``
makes the first N sends fail retryably (a flaky peer: retries with backoff must recover);
``fail = "retryable"`` or ``"permanent"`` makes every send fail. Usable from a
configuration as ``type = "memory"`` (an engine test driven through garrison.toml).

It is a real connector of the contract, not a mock of a peer: nothing leaves the process,
and ``delivered`` is the set of idempotency keys sent, as a deduplicating peer would see.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

from garrison.core.options import option
from garrison.respond.connectors.base import ConnectorError, Delivery, Receipt


@dataclass(slots=True)
class MemoryOptions:
    fail_first: int = option(0, min=0, max=1000)
    fail: Literal["never", "retryable", "permanent"] = "never"
    #: The kind it stands in for (``perform`` checks a binding's kind against the action).
    stands_for: str = ""


@dataclass
class Memory:
    name: str = "memory"
    fail_first: int = 0
    fail: Literal["never", "retryable", "permanent"] = "never"
    kind: str = "memory"
    stands_for: str = ""
    checks: list[Delivery] = field(default_factory=list)
    sends: list[Delivery] = field(default_factory=list)
    failures: list[Delivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def delivered(self) -> list[str]:
        """The idempotency keys of successful sends (undos included), in order."""
        return [d.key for d in self.sends]

    def check(self, delivery: Delivery) -> Receipt:
        with self._lock:
            self.checks.append(delivery)
            return Receipt(f"memory:{self.name}:check:{len(self.checks)}", "checked; not sent")

    def send(self, delivery: Delivery) -> Receipt:
        with self._lock:
            attempt = len(self.sends) + len(self.failures) + 1
            if self.fail != "never" or attempt <= self.fail_first:
                self.failures.append(delivery)
                retry = self.fail != "permanent"
                raise ConnectorError(
                    f"memory {self.name}: failure {len(self.failures)} (as configured)",
                    retryable=retry,
                )
            self.sends.append(delivery)
            verb = "undone" if delivery.undo else "sent"
            return Receipt(f"memory:{self.name}:{len(self.sends)}", f"{delivery.action} {verb}")


def build(name: str, options: MemoryOptions) -> Memory:
    return Memory(name, options.fail_first, options.fail, stands_for=options.stands_for)
