"""``[respond.connectors.NAME]`` tables -> configured connectors, or one clear error.

Each table names its ``type``; the rest of the table is checked by the project's options
loader against that type's dataclass (unknown key, wrong type, missing key: an
``OptionsError`` naming ``[respond.connectors.NAME] key`` and the file, exit 2). Secrets are
read here, once, from the environment variable the table names (``secret_env``,
``password_env``): a variable that is unset or empty is an error at load, not at the first
send in the middle of an incident. The value lives only inside a ``safe.Secret``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from garrison.core.options import OptionsError, load_options, table_name
from garrison.respond.connectors import command, memory, nftables, smtp, tickets, webhook
from garrison.respond.connectors.base import Connector
from garrison.respond.connectors.safe import Secret

#: (key in the table, environment variable name) -> the secret, or OptionsError.
SecretReader = Callable[[str, str], Secret]


@dataclass(frozen=True, slots=True)
class ConnectorType:
    options: type[Any]
    make: Callable[[str, Any, SecretReader], Connector]


TYPES: dict[str, ConnectorType] = {
    "webhook": ConnectorType(
        webhook.WebhookOptions,
        lambda n, o, s: webhook.build(n, o, s("secret_env", o.secret_env)),
    ),
    "smtp": ConnectorType(
        smtp.SmtpOptions,
        lambda n, o, s: smtp.build(
            n, o, s("password_env", o.password_env) if o.password_env else None
        ),
    ),
    "nftables": ConnectorType(nftables.NftablesOptions, lambda n, o, s: nftables.build(n, o)),
    "command": ConnectorType(command.CommandOptions, lambda n, o, s: command.build(n, o)),
    "ticket-file": ConnectorType(
        tickets.TicketFileOptions, lambda n, o, s: tickets.build_file(n, o)
    ),
    "ticket-webhook": ConnectorType(
        webhook.WebhookOptions,
        lambda n, o, s: tickets.build_webhook(
            n, webhook.build(n, o, s("secret_env", o.secret_env))
        ),
    ),
    "memory": ConnectorType(memory.MemoryOptions, lambda n, o, s: memory.build(n, o)),
}


def load_connectors(
    tables: Mapping[str, Any],
    file: Path | None = None,
    env: Mapping[str, str] = os.environ,
) -> dict[str, Connector]:
    """Every ``[respond.connectors.NAME]`` table built; the first bad one raises."""
    return {name: load_connector(name, table, file, env) for name, table in tables.items()}


def load_connector(
    name: str, table: Any, file: Path | None = None, env: Mapping[str, str] = os.environ
) -> Connector:
    where = table_name("respond", "connectors", name)
    if not isinstance(table, Mapping):
        raise OptionsError(where, "", "must be a table", file)
    kind = table.get("type")
    if kind is None:
        raise OptionsError(where, "type", f"missing; one of {', '.join(TYPES)}", file)
    if kind not in TYPES:
        shown = repr(kind) if len(repr(kind)) <= 40 else repr(kind)[:37] + "..."
        raise OptionsError(
            where, "type", f"unknown connector type {shown} (known: {', '.join(TYPES)})", file
        )
    spec = TYPES[kind]
    rest = {k: v for k, v in table.items() if k != "type"}
    options = load_options(spec.options, rest, where=where, file=file)

    def secret(key: str, var: str) -> Secret:
        value = env.get(var)
        if not value:
            raise OptionsError(where, key, f"environment variable {var} is not set", file)
        return Secret(value, var)

    return spec.make(name, options, secret)
