"""Anchoring the audit head outside the home, through a configured webhook connector.

Whoever can write the home can re-MAC an edited audit entry with the home's own key; a head
kept elsewhere proves such a rewrite (``garrison audit verify --head FILE``). This sends the
current head, signed like every webhook delivery, to a receiver the home cannot rewrite (a
ticketing system, a WORM bucket's ingest hook). Run it on a schedule (cron, a systemd
timer) with ``garrison audit head --post CONNECTOR``; each post is itself audited.
"""

from __future__ import annotations

import hashlib

from garrison.core.config import GarrisonConfig
from garrison.core.errors import CheckFailed, UsageError
from garrison.govern.audit import AuditLog
from garrison.respond.config import load_response_config
from garrison.respond.connectors.base import Delivery, Receipt
from garrison.respond.wiring import performer_for


def post_head(config: GarrisonConfig, audit: AuditLog, head_text: str, connector: str) -> Receipt:
    """Send ``head_text`` through the webhook connector ``connector``; ``CheckFailed``
    (exit 1) when the receiver could not be reached after the retries."""
    cfg = load_response_config(config.raw, config.path)
    performer = performer_for(cfg, config.path)
    connectors = performer.prepare()
    if connectors.get(connector) is None or connectors[connector].kind != "webhook":
        webhooks = sorted(n for n, c in connectors.items() if c.kind == "webhook")
        raise UsageError(
            f"--post names no webhook connector {connector[:40]!r} "
            f"(configured: {', '.join(webhooks) or 'none under [respond.connectors]'})"
        )
    key = "head-" + hashlib.sha256(head_text.encode("utf-8")).hexdigest()[:32]
    delivery = Delivery(
        "notify.webhook", {"connector": connector, "message": head_text}, key, step="audit-head"
    )
    result = performer(delivery, True)
    audit.append(
        "audit.anchor",
        connector,
        "ok" if result.receipt else "error:failed",
        {"key": key, "attempts": result.attempts, "reason": result.error},
    )
    if result.receipt is None:
        raise CheckFailed(f"the head was not delivered to {connector}: {result.error}")
    return result.receipt
