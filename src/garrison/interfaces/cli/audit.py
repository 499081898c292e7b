"""``garrison audit verify|list``: check and read the tamper-evident audit log.

``verify`` exits 0 when the chain is intact and 1 naming the first broken entry (its seq and
why: mac mismatch, chain break, sequence gap, truncated tail, unknown key, head record).
``list`` shows the newest entries; it reads the database only and never creates a key.
Entry text is attacker-influenced: it is printed through ``common.show`` (the one
terminal sanitiser), control characters made visible and markup escaped.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from garrison.core.errors import CheckFailed
from garrison.core.timeutil import iso
from garrison.govern.audit import AuditEntry, open_audit
from garrison.interfaces.cli.common import (
    ConfigOption,
    HomeOption,
    console,
    err_console,
    home_for,
)
from garrison.interfaces.cli.common import show as _show

audit_app = typer.Typer(
    name="audit", no_args_is_help=True, add_completion=False, help="The tamper-evident audit log."
)


def _describe(entry: AuditEntry) -> str:
    return (
        f"seq {entry.seq}  {iso(entry.time)[:23]}  {_show(entry.actor)}  {_show(entry.action)}  "
        f"{_show(entry.target)}  {_show(entry.outcome)}  {_show(entry.details, 300)}"
    )


@audit_app.command("verify")
def verify(home: HomeOption = None, config: ConfigOption = None) -> None:
    """Check the whole chain and its head record; exit 1 at the first broken entry."""
    verdict = open_audit(home_for(home, config)).verify()
    if verdict.ok:
        console.print(verdict.describe(), highlight=False)
        return
    err_console.print(f"[red]BROKEN[/] {_show(verdict.describe())}", highlight=False)
    if verdict.entry is not None:
        err_console.print(f"  entry: {_describe(verdict.entry)}", highlight=False, soft_wrap=True)
    raise CheckFailed(f"audit chain broken at seq {verdict.seq} ({verdict.kind})")


@audit_app.command("list")
def list_entries(
    limit: Annotated[int, typer.Option("--limit", help="Entries to show, newest first.")] = 20,
    action: Annotated[
        str | None, typer.Option("--action", help="Only this action (glob: 'allowlist.*').")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """The newest audit entries (not verified: run `garrison audit verify` for that)."""
    entries = open_audit(home_for(home, config)).entries(max(1, limit), action)
    if as_json:
        for entry in entries:
            typer.echo(json.dumps(entry.to_json(), ensure_ascii=True))
        return
    if not entries:
        console.print("no audit entries" + (f" for action {_show(action)}" if action else ""))
        return
    table = Table(title="Audit log (newest first)")
    for col in ("seq", "time (UTC)", "actor", "action", "target", "outcome", "details"):
        table.add_column(col)
    for e in entries:
        table.add_row(
            str(e.seq),
            iso(e.time)[:19],
            _show(e.actor, 24),
            _show(e.action, 32),
            _show(e.target, 40),
            _show(e.outcome, 24),
            _show(e.details, 80),
        )
    console.print(table)
