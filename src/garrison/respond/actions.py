"""The actions a playbook step may name, with the metadata policy needs before any runs.

An action is declared here by name, impact, parameters, rate limit and whether it can be
undone; ``respond.perform`` carries each out through a connector. The impact decides the
gate: a ``disruptive`` or ``destructive`` step is refused by the playbook check unless it
requires approval, and the policy (``respond.policy``) never runs one without a recorded
approval. Every ``reversible`` action has an undo (``tests/unit/respond/test_actions.py``).
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
    #: Whether a delivery with ``undo=True`` reverts it (close the ticket, lift the block).
    undoable: bool = False
    #: At most ``count`` executions per ``seconds`` (all playbooks together); the
    #: ``[respond.rate_limits]`` table may lower or raise it.
    rate_limit: tuple[int, int] = (60, 3600)
    #: The connector it goes through when no parameter names one (``[respond.bindings]``
    #: maps it to a configured connector); None: performed inside Garrison.
    binding: str | None = None

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
        rate_limit=(1000, 3600),
    ),
    ActionSpec(
        "notify.webhook",
        "read-only",
        "POST a signed notification to a configured webhook.",
        required=("connector",),
        optional=("message",),
        rate_limit=(120, 3600),
    ),
    ActionSpec(
        "notify.email",
        "read-only",
        "Send a notification e-mail through the configured SMTP server.",
        required=("to",),
        optional=("subject", "message"),
        rate_limit=(60, 3600),
        binding="mail",
    ),
    ActionSpec(
        "ticket.open",
        "reversible",
        "Open a ticket in the configured ticket sink.",
        required=("queue",),
        optional=("title", "priority"),
        undoable=True,
        rate_limit=(30, 3600),
        binding="tickets",
    ),
    ActionSpec(
        "block.ip",
        "disruptive",
        "Add an address to the block list.",
        required=("ip",),
        optional=("duration", "reason"),
        undoable=True,
        rate_limit=(50, 3600),
        binding="firewall",
    ),
    ActionSpec(
        "isolate.host",
        "disruptive",
        "Cut a host off the network except for the management channel.",
        required=("host",),
        optional=("reason",),
        undoable=True,
        rate_limit=(5, 3600),
        binding="isolation",
    ),
    ActionSpec(
        "disable.account",
        "disruptive",
        "Disable an account so it can no longer sign in.",
        required=("user",),
        optional=("reason",),
        undoable=True,
        rate_limit=(10, 3600),
        binding="accounts",
    ),
):
    declare(_spec)
