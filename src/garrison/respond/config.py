"""``[respond]`` in garrison.toml: the policy's thresholds, retries, rate limits, and which
configured connector each action goes through.

    [respond]
    reversible_min_confidence = 70   # below it a reversible action waits for approval
    attempts = 3                     # tries of a connector call before the step fails
    backoff = 1.0                    # seconds before the 2nd try, doubled each time
    [respond.rate_limits]
    "ticket.open" = "20/1h"          # at most 20 per hour, over all playbooks
    [respond.bindings]
    firewall = "edge-nft"            # block.ip goes through [respond.connectors.edge-nft]
    [respond.connectors.edge-nft]
    type = "nftables"

Connector tables are checked by ``respond.connectors.config`` (each type has its own
dataclass); secrets are never written here, only the name of the environment variable
that holds them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.core.options import OptionsError, load_options, option

_RATE = re.compile(r"^([1-9][0-9]{0,5})/([1-9][0-9]{0,5})?([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(text: str) -> tuple[int, int]:
    """``"20/1h"`` or ``"20/h"`` -> (20, 3600): at most 20 per hour."""
    match = _RATE.match(text.strip())
    if match is None:
        raise ValueError(f"a rate is written COUNT/PERIOD such as 20/1h or 5/m, not {text!r}")
    count, amount, unit = match.groups()
    return int(count), int(amount or 1) * _UNIT[unit]


@dataclass(slots=True)
class ResponseConfig:
    #: Minimum confidence (0-100) of the triggering finding (an incident: its risk score)
    #: for a reversible action to run without approval.
    reversible_min_confidence: int = option(70, min=0, max=100)
    #: Tries of one connector call before the step is recorded as failed.
    attempts: int = option(3, min=1, max=10)
    #: Seconds before the second try; doubled for each further try, capped at backoff_max.
    backoff: float = option(1.0, min=0, max=300)
    backoff_max: float = option(30.0, min=0, max=3600)
    #: Per-action rate limits that replace the action's own ("COUNT/PERIOD").
    rate_limits: dict[str, str] = field(default_factory=dict)
    #: Binding slot (an action's ``binding``: mail, tickets, firewall, isolation,
    #: accounts) or action name -> configured connector name.
    bindings: dict[str, str] = field(default_factory=dict)
    #: Connector tables, by name; each is checked by ``respond.connectors.config``.
    connectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: A connector told when an approval lapses with ``fallback: escalate``.
    escalate_to: str | None = None

    def rate_of(self, action: str, default: tuple[int, int]) -> tuple[int, int]:
        text = self.rate_limits.get(action)
        return default if text is None else parse_rate(text)


def load_response_config(raw: dict[str, Any], file: Path | None = None) -> ResponseConfig:
    """``[respond]`` of a parsed garrison.toml, checked (an ``OptionsError`` names the key)."""
    cfg = load_options(ResponseConfig, raw.get("respond"), where="respond", file=file)
    for action, text in cfg.rate_limits.items():
        try:
            parse_rate(text)
        except ValueError as exc:
            raise OptionsError("respond.rate_limits", action, str(exc), file) from None
    return cfg
