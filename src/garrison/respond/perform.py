"""Carrying out one action: its parameters checked, its connector found, then the dry-run
(``check``) or live (``send``) call. The engine calls ``perform`` and nothing else here.

Each action is a small typed function in ``PERFORMERS`` (and its undo, for every
``undoable`` action; ``tests/unit/respond/test_perform.py`` holds the table to
``actions.ACTIONS``). A parameter that fails its check (an address that does not parse, a
host name with a shell metacharacter, a recipient with a line break, a duration that is not
``30m``), a missing connector or one of the wrong kind is a ``ConnectorError`` that is not
retryable, with a reason that says what to fix. Connectors check what they interpolate
again; this is the first of two locks, and the one that names the parameter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from garrison.core.options import OptionsError
from garrison.core.text import visible
from garrison.respond.actions import ACTIONS, ActionSpec
from garrison.respond.connectors import safe
from garrison.respond.connectors.base import Connector, ConnectorError, Delivery, Receipt

#: (delivery with checked params, its connector or None, live?) -> receipt.
Do = Callable[[Delivery, Connector | None, bool], Receipt]
Check = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Performer:
    do: Do
    undo: Do | None = None
    #: Connector kinds the action may go through (a ``memory`` twin stands in for any);
    #: empty: performed inside Garrison, no connector.
    kinds: frozenset[str] = frozenset()


def _checked(delivery: Delivery, checks: Mapping[str, Check]) -> Delivery:
    """``delivery`` with each parameter named in ``checks`` replaced by its checked form;
    parameters not named are dropped (an undo needs fewer than the action)."""
    params: dict[str, Any] = {}
    for name, check in checks.items():
        if name not in delivery.params:
            continue
        try:
            params[name] = check(delivery.params[name])
        except ValueError as exc:
            raise ConnectorError(f"{delivery.action}: parameter {name}: {exc}") from None
    return dataclasses.replace(delivery, params=params)


def _call(connector: Connector | None, delivery: Delivery, live: bool) -> Receipt:
    if connector is None:  # perform() always passes one to a connector action
        raise ConnectorError(f"{delivery.action}: no connector")
    return connector.send(delivery) if live else connector.check(delivery)


def _ip(value: Any) -> str:
    return str(safe.ip(value))


def _duration(value: Any) -> str:
    safe.duration(value)
    return str(value)


def _priority(value: Any) -> str:
    return safe.token(value, "a priority")


def enrich(delivery: Delivery, connector: Connector | None, live: bool) -> Receipt:
    """Read-only and inside Garrison: a summary of the enrichment the subject carries."""
    found = delivery.subject.get("enrichment")
    sources = delivery.params.get("sources") or ()
    wanted = [sources] if isinstance(sources, str) else [str(s) for s in sources]
    if not isinstance(found, Mapping) or not found:
        return Receipt("enrich", "no enrichment recorded for the subject")
    have = sorted(str(k) for k in found if not wanted or str(k) in wanted)
    missing = sorted(s for s in wanted if s not in found)
    detail = f"{len(have)} source(s): {', '.join(have) or 'none'}"
    if missing:
        detail += f"; not available: {', '.join(missing)}"
    return Receipt("enrich", visible(detail, 300))


def notify_webhook(delivery: Delivery, connector: Connector | None, live: bool) -> Receipt:
    checks: dict[str, Check] = {"connector": safe.token, "message": safe.text}
    return _call(connector, _checked(delivery, checks), live)


def notify_email(delivery: Delivery, connector: Connector | None, live: bool) -> Receipt:
    checks: dict[str, Check] = {"to": safe.emails, "subject": safe.text, "message": safe.text}
    return _call(connector, _checked(delivery, checks), live)


def open_ticket(delivery: Delivery, connector: Connector | None, live: bool) -> Receipt:
    checks: dict[str, Check] = {"queue": safe.token, "title": safe.text, "priority": _priority}
    return _call(connector, _checked(delivery, checks), live)


def close_ticket(delivery: Delivery, connector: Connector | None, live: bool) -> Receipt:
    return _call(connector, _checked(delivery, {"queue": safe.token}), live)


def block_ip(delivery: Delivery, connector: Connector | None, live: bool) -> Receipt:
    checks: dict[str, Check] = {"ip": _ip, "duration": _duration, "reason": safe.text}
    return _call(connector, _checked(delivery, checks), live)


def unblock_ip(delivery: Delivery, connector: Connector | None, live: bool) -> Receipt:
    return _call(connector, _checked(delivery, {"ip": _ip, "reason": safe.text}), live)


def isolate_host(delivery: Delivery, connector: Connector | None, live: bool) -> Receipt:
    checks: dict[str, Check] = {"host": safe.hostname, "reason": safe.text}
    return _call(connector, _checked(delivery, checks), live)


def disable_account(delivery: Delivery, connector: Connector | None, live: bool) -> Receipt:
    checks: dict[str, Check] = {"user": safe.username, "reason": safe.text}
    return _call(connector, _checked(delivery, checks), live)


_OUTSIDE = frozenset({"command", "webhook"})
PERFORMERS: dict[str, Performer] = {
    "enrich": Performer(enrich),
    "notify.webhook": Performer(notify_webhook, kinds=frozenset({"webhook"})),
    "notify.email": Performer(notify_email, kinds=frozenset({"smtp"})),
    "ticket.open": Performer(
        open_ticket, close_ticket, frozenset({"ticket-file", "ticket-webhook"})
    ),
    "block.ip": Performer(block_ip, unblock_ip, _OUTSIDE | {"nftables"}),
    # The undo of isolation and of a disable is the same call with delivery.undo set: the
    # connector picks its undo_argv (command) or tells the peer "undo": true (webhook).
    "isolate.host": Performer(isolate_host, isolate_host, _OUTSIDE),
    "disable.account": Performer(disable_account, disable_account, _OUTSIDE),
}


def perform(
    delivery: Delivery,
    connectors: Mapping[str, Connector],
    bindings: Mapping[str, str],
    *,
    live: bool,
) -> Receipt:
    """Do (``live``) or dry-run ``delivery``; ``ConnectorError`` when it cannot be done."""
    if delivery.action not in ACTIONS or delivery.action not in PERFORMERS:
        raise ConnectorError(f"unknown action {safe.quote(delivery.action)}")
    spec, performer = ACTIONS.get(delivery.action), PERFORMERS[delivery.action]
    _check_params(spec, delivery.params)
    if delivery.undo and (not spec.undoable or performer.undo is None):
        raise ConnectorError(f"{spec.name} cannot be undone")
    connector = connector_for(spec, delivery.params, connectors, bindings)
    do = performer.undo if delivery.undo and performer.undo is not None else performer.do
    return do(delivery, connector, live)


def _check_params(spec: ActionSpec, params: Mapping[str, Any]) -> None:
    for name in spec.required:
        if name not in params or params[name] in (None, ""):
            raise ConnectorError(f"{spec.name}: missing parameter {name!r}")
    unknown = sorted(k for k in params if k not in (*spec.required, *spec.optional))
    if unknown:
        raise ConnectorError(f"{spec.name}: unknown parameter {safe.quote(unknown[0])}")


def connector_for(
    spec: ActionSpec,
    params: Mapping[str, Any],
    connectors: Mapping[str, Connector],
    bindings: Mapping[str, str],
) -> Connector | None:
    """The configured connector ``spec`` goes through (None for an in-Garrison action)."""
    kinds = PERFORMERS[spec.name].kinds
    if not kinds:
        return None
    if spec.name == "notify.webhook":
        name, where = str(params.get("connector")), "its connector parameter"
    else:
        slot = spec.name if spec.name in bindings else spec.binding
        if slot is None or slot not in bindings:
            raise ConnectorError(
                f"{spec.name}: no connector configured: set [respond.bindings] "
                f'{spec.binding or spec.name} = "NAME" and [respond.connectors.NAME]'
            )
        name, where = bindings[slot], f"[respond.bindings] {slot}"
    connector = connectors.get(name)
    if connector is None:
        raise ConnectorError(
            f"{spec.name}: {where} names {safe.quote(name)}, not under [respond.connectors]"
        )
    if not fits(connector, kinds):
        raise ConnectorError(
            f"{spec.name} cannot go through {connector.kind} connector {safe.quote(name)} "
            f"(needs one of: {', '.join(sorted(kinds))})"
        )
    return connector


def fits(connector: Connector, kinds: frozenset[str]) -> bool:
    """Whether ``connector`` can carry an action taking ``kinds`` (a memory twin fits
    anything unless it says which kind it stands for)."""
    if connector.kind == "memory":
        stands_for = str(getattr(connector, "stands_for", ""))
        return not stands_for or stands_for in kinds
    return connector.kind in kinds


def check_bindings(
    bindings: Mapping[str, str], connectors: Mapping[str, Connector], file: Path | None = None
) -> None:
    """``[respond.bindings]`` against the actions and the configured connectors, at load:
    each key a binding slot or an action name, each value a connector of a fitting kind."""
    slots: dict[str, list[str]] = {}
    for name, spec in ACTIONS.items():
        if spec.binding:
            slots.setdefault(spec.binding, []).append(name)
    for key, target in bindings.items():
        actions = [key] if key in ACTIONS else slots.get(key)
        if not actions:
            known = ", ".join(sorted(slots))
            raise OptionsError(
                "respond.bindings", key, f"not a binding slot ({known}) or an action", file
            )
        if target not in connectors:
            raise OptionsError(
                "respond.bindings", key, f"{target!r} is not under [respond.connectors]", file
            )
        for action in actions:
            if not fits(connectors[target], PERFORMERS[action].kinds):
                raise OptionsError(
                    "respond.bindings",
                    key,
                    f"{action} cannot go through {connectors[target].kind} connector {target!r}",
                    file,
                )
