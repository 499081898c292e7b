"""Retries of one connector call, with exponential backoff, every attempt recorded.

A failed step must say what happened on each try (issue 10: "a recorded failed step with
retries and backoff, never a silent skip"), so ``with_retries`` returns an ``Outcome``
holding every ``Attempt`` (its number, success or reason, and the delay slept before it)
with the final ``Receipt`` or the last ``ConnectorError``. A non-retryable error (a 4xx, an
invalid rule, a refused recipient) stops at once: trying again cannot help and may harm.

Delay before attempt ``n`` (n >= 2) is ``min(backoff_max, backoff * 2 ** (n - 2))``; with a
``random.Random`` given it is drawn uniformly from ``[0, that]`` ("full jitter", so many
playbooks failing against one peer do not retry in lockstep), and the same seed gives the
same delays. Only ``ConnectorError`` is caught: any other exception is a bug and propagates.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from garrison.respond.connectors.base import ConnectorError, Receipt


@dataclass(frozen=True, slots=True)
class Attempt:
    number: int
    ok: bool
    #: Why it failed ("" on success): the connector's one-line, safe reason.
    reason: str = ""
    retryable: bool = False
    #: Seconds slept before this attempt (0 for the first).
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class Outcome:
    attempts: tuple[Attempt, ...]
    receipt: Receipt | None = None
    error: ConnectorError | None = None

    @property
    def ok(self) -> bool:
        return self.receipt is not None

    @property
    def reason(self) -> str:
        return "" if self.error is None else self.error.reason


def delay_before(
    number: int, backoff: float, backoff_max: float, rng: random.Random | None = None
) -> float:
    """Seconds to wait before attempt ``number`` (1-based; the first waits nothing)."""
    if number <= 1:
        return 0.0
    ceiling = min(backoff_max, backoff * 2.0 ** min(number - 2, 60))
    return ceiling if rng is None else rng.uniform(0.0, ceiling)


def with_retries(
    call: Callable[[], Receipt],
    attempts: int,
    backoff: float,
    backoff_max: float,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> Outcome:
    """Call ``call`` up to ``attempts`` times until it returns a ``Receipt``."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    done: list[Attempt] = []
    error: ConnectorError | None = None
    for number in range(1, attempts + 1):
        delay = delay_before(number, backoff, backoff_max, rng)
        if delay > 0:
            sleep(delay)
        try:
            receipt = call()
        except ConnectorError as exc:
            error = exc
            done.append(Attempt(number, False, exc.reason, exc.retryable, delay))
            if not exc.retryable:
                break
            continue
        done.append(Attempt(number, True, "", False, delay))
        return Outcome(tuple(done), receipt, None)
    return Outcome(tuple(done), None, error)
