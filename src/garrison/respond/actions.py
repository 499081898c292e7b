"""The actions a playbook step may name, with the metadata policy needs before any runs.

An action is declared here by name, impact and parameters; the executors come later and
register against the same names. The impact decides the gate: a ``disruptive`` or
``destructive`` step is refused by the playbook check unless it requires approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from garrison.core.plugins import Registry

Impact = Literal["read-only", "reversible", "disruptive", "destructive"]
IMPACTS: tuple[Impact, ...] = ("read-only", "reversible", "disruptive", "destructive")
#: Impacts that may never run without a recorded human approval.
GATED: frozenset[Impact] = frozenset({"disruptive", "destructive"})


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """What a playbook check knows of an action: its impact and its parameters."""

    name: str
    impact: Impact
    description: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    @property
    def needs_approval(self) -> bool:
        return self.impact in GATED


ACTIONS: Registry[ActionSpec] = Registry("action")


def declare(spec: ActionSpec) -> ActionSpec:
    """Register ``spec`` under its name (a name declared twice is an error)."""
    return ACTIONS.register(spec.name)(spec)


for _spec in (
    ActionSpec(
        "enrich",
        "read-only",
        "Gather asset, identity and intel context for the subject.",
        optional=("sources",),
    ),
    ActionSpec(
        "notify.webhook",
        "read-only",
        "POST a signed notification to a configured webhook.",
        required=("connector",),
        optional=("message",),
    ),
    ActionSpec(
        "notify.email",
        "read-only",
        "Send a notification e-mail through the configured SMTP server.",
        required=("to",),
        optional=("subject", "message"),
    ),
    ActionSpec(
        "ticket.open",
        "reversible",
        "Open a ticket in the configured ticket sink.",
        required=("queue",),
        optional=("title", "priority"),
    ),
    ActionSpec(
        "block.ip",
        "disruptive",
        "Add an address to the block list.",
        required=("ip",),
        optional=("duration", "reason"),
    ),
    ActionSpec(
        "isolate.host",
        "disruptive",
        "Cut a host off the network except for the management channel.",
        required=("host",),
        optional=("reason",),
    ),
    ActionSpec(
        "disable.account",
        "disruptive",
        "Disable an account so it can no longer sign in.",
        required=("user",),
        optional=("reason",),
    ),
):
    declare(_spec)
