"""``garrison users ...`` and ``garrison tokens ...``: accounts, roles and API tokens.

Thin: each command opens the ``UserStore`` acting as the operating-system account's
registered user (``garrison.govern.access.cli_store``), calls it and prints. The store does
every check (only an admin manages users; an empty home allows only the first admin), so
the API gets the same rules. A refusal or bad input is one line on stderr and exit 2.
A token's secret goes to stdout once, alone on its line, so a script can capture it; it is
never stored, listed or logged.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from garrison.core.timeutil import iso, now_ms
from garrison.govern.access import DEFAULT_TTL, ROLES, UserStore, cli_store
from garrison.govern.audit import open_audit
from garrison.interfaces.cli.common import (
    ConfigOption,
    HomeOption,
    console,
    err_console,
    home_for,
    print_json,
    show,
)
from garrison.store.state import StateDB

users_app = typer.Typer(
    name="users",
    no_args_is_help=True,
    add_completion=False,
    help="Users and their roles (the first admin needs no login).",
)
tokens_app = typer.Typer(
    name="tokens",
    no_args_is_help=True,
    add_completion=False,
    help="API tokens: issue, list, revoke.",
)

Name = Annotated[str, typer.Argument(help="User name (the OS account name for CLI use).")]
RoleList = Annotated[
    list[str], typer.Option("--role", help=f"A role ({', '.join(ROLES)}); repeatable.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read a session password from the first stdin line."),
]


def _store(home: Path | None, config: Path | None) -> UserStore:
    """The store acting as the CLI's identity (the OS account's registered user)."""
    root = home_for(home, config)
    state = StateDB(root / "state.db")
    return cli_store(state, open_audit(root, state))


def _stdin_password() -> str:
    return sys.stdin.readline().rstrip("\r\n")


def _when(ms: int | None) -> str:
    return "-" if ms is None else iso(ms)[:19]


def _table(title: str, columns: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    table = Table(title=title)
    for name in columns:
        table.add_column(name)
    for row in rows:
        table.add_row(*row)
    console.print(table)


# -- users ------------------------------------------------------------------------------------
@users_app.callback()
def users_main() -> None:
    """Users and their roles (the first admin needs no login)."""


@users_app.command("add")
def add(
    name: Name,
    role: RoleList,
    password_stdin: PasswordStdin = False,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Register a user with roles; in an empty home, the first admin."""
    password = _stdin_password() if password_stdin else None
    user = _store(home, config).add_user(name, role, password)
    console.print(
        f"added {show(user.name)} ({', '.join(r for r in ROLES if r in user.roles)})",
        highlight=False,
    )


@users_app.command("list")
def list_users(
    as_json: AsJson = False, home: HomeOption = None, config: ConfigOption = None
) -> None:
    """Registered users, their roles and state (admin only)."""
    users = _store(home, config).list_users()
    if as_json:
        print_json([u.to_json() for u in users])
        return
    rows = [
        (
            show(u.name),
            ", ".join(r for r in ROLES if r in u.roles) or "-",
            "set" if u.has_password else "-",
            "disabled" if u.disabled else "enabled",
            _when(u.created_at),
        )
        for u in users
    ]
    _table("Users", ("name", "roles", "password", "state", "created (UTC)"), rows)


@users_app.command("disable")
def disable(name: Name, home: HomeOption = None, config: ConfigOption = None) -> None:
    """Disable a user: CLI identity, tokens and password stop working."""
    _store(home, config).disable(name)
    console.print(f"disabled {show(name)}", highlight=False)


@users_app.command("enable")
def enable(name: Name, home: HomeOption = None, config: ConfigOption = None) -> None:
    """Enable a disabled user again."""
    _store(home, config).enable(name)
    console.print(f"enabled {show(name)}", highlight=False)


@users_app.command("roles")
def roles(
    name: Name,
    role: Annotated[
        list[str] | None, typer.Option("--role", help="The new roles (none: no role).")
    ] = None,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Replace a user's roles (an admin cannot add roles to their own account)."""
    user = _store(home, config).set_roles(name, role or [])
    held = ", ".join(r for r in ROLES if r in user.roles) or "no role"
    console.print(f"{show(user.name)}: {held}", highlight=False)


@users_app.command("password")
def password(name: Name, home: HomeOption = None, config: ConfigOption = None) -> None:
    """Set a user's session password from the first stdin line (one's own, or as admin)."""
    _store(home, config).set_password(name, _stdin_password())
    console.print(f"password set for {show(name)}", highlight=False)


# -- tokens -----------------------------------------------------------------------------------
@tokens_app.callback()
def tokens_main() -> None:
    """API tokens: issue, list, revoke."""


@tokens_app.command("issue")
def issue(
    user: Name,
    role: Annotated[str, typer.Option("--role", help="The one role the token carries.")],
    ttl: Annotated[str, typer.Option("--ttl", help="Lifetime: 90m, 12h, 30d, 2w.")] = DEFAULT_TTL,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Issue a token for USER scoped to one role; the secret is printed once."""
    token = _store(home, config).issue_token(user, role, ttl)
    err_console.print(
        f"token {token.id} for {show(token.user)} (role {token.role}), expires "
        f"{_when(token.expires_at)} UTC; shown once, store it now:",
        highlight=False,
        soft_wrap=True,
    )
    typer.echo(token.secret)


@tokens_app.command("list")
def list_tokens(
    as_json: AsJson = False, home: HomeOption = None, config: ConfigOption = None
) -> None:
    """Tokens (all as admin, else one's own), newest first; never their secrets."""
    tokens = _store(home, config).list_tokens()
    now = now_ms()
    if as_json:
        print_json([t.to_json(now) for t in tokens])
        return
    rows = [
        (
            t.id,
            show(t.user),
            t.role,
            t.state(now),
            _when(t.created_at),
            _when(t.expires_at),
            _when(t.last_used_at),
        )
        for t in tokens
    ]
    columns = ("id", "user", "role", "state", "created", "expires", "last used")
    _table("API tokens", columns, rows)


@tokens_app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(metavar="ID", help="The token id (from list).")],
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Revoke a token at once (one's own, or any as admin)."""
    info = _store(home, config).revoke_token(token_id)
    console.print(f"revoked token {info.id} of {show(info.user)}", highlight=False)
