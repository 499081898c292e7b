"""The engine's performer for a real home: ``[respond]``'s connectors, its bindings and
its retry policy around ``perform``.

Connectors are built (and their secrets read from the environment) the first time an
action needs one, or when ``prepare`` is called at the start of ``garrison respond``, so a
mistake in ``[respond.connectors]`` is a one-line error before anything runs, while
commands that never act (``approvals list``, ``playbooks simulate``) need no connector.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from garrison.respond.config import ResponseConfig
from garrison.respond.connectors.base import Connector, Delivery
from garrison.respond.connectors.config import load_connectors
from garrison.respond.engine import Executed
from garrison.respond.perform import check_bindings, perform
from garrison.respond.retry import with_retries


class ConnectorPerformer:
    """Perform a delivery through the configured connectors, with retries and backoff."""

    def __init__(
        self,
        cfg: ResponseConfig,
        file: Path | None = None,
        env: Mapping[str, str] = os.environ,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.cfg, self.file, self.env, self.sleep = cfg, file, env, sleep
        self._connectors: dict[str, Connector] | None = None
        self.rng = random.Random()  # jitter for backoff, not a secret

    def prepare(self) -> dict[str, Connector]:
        """Build the connectors now; an ``OptionsError`` (exit 2) names a bad table."""
        if self._connectors is None:
            connectors = load_connectors(self.cfg.connectors, self.file, self.env)
            check_bindings(self.cfg.bindings, connectors, self.file)
            self._connectors = connectors
        return self._connectors

    def __call__(self, delivery: Delivery, live: bool) -> Executed:
        connectors = self.prepare()
        outcome = with_retries(
            lambda: perform(delivery, connectors, self.cfg.bindings, live=live),
            self.cfg.attempts,
            self.cfg.backoff,
            self.cfg.backoff_max,
            self.sleep,
            self.rng,  # full jitter: many failing actions do not retry in step
        )
        return Executed(outcome.receipt, outcome.reason, len(outcome.attempts))


def performer_for(cfg: ResponseConfig, file: Path | None = None) -> ConnectorPerformer:
    return ConnectorPerformer(cfg, file)
