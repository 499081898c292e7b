"""``garrison audit verify|list|head``: check, read and export the tamper-evident audit log.

``verify`` exits 0 when the chain is intact and 1 naming the first broken entry (its seq and
why: mac mismatch, chain break, sequence gap, truncated tail, unknown key, head record).
``verify --head FILE`` also checks the chain against a head exported earlier by ``head`` (kept
outside the home): exit 1 when the entries it covers were rewritten, even re-MAC'd with the
home's own key; exit 2 when the file is not a head. ``head`` prints (or writes) the head of an
intact chain as one JSON line, and exits 1 without one when the chain is broken.
``list`` shows the newest entries; it reads the database only and never creates a key.
Entry text is attacker-influenced: it is printed through ``common.show`` (the one
terminal sanitiser), control characters made visible and markup escaped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.table import Table

from garrison.core.errors import CheckFailed, storage_error
from garrison.core.timeutil import iso
from garrison.govern.audit import AuditEntry, Verdict, open_audit, read_head_file
from garrison.interfaces.cli.common import (
    ConfigOption,
    HomeOption,
    config_for,
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


HeadFileOption = Annotated[
    Path | None,
    typer.Option("--head", help="A head exported by `garrison audit head`: check against it too."),
]


@audit_app.command("verify")
def verify(
    head_file: HeadFileOption = None, home: HomeOption = None, config: ConfigOption = None
) -> None:
    """Check the whole chain and its head record; exit 1 at the first broken entry."""
    exported = read_head_file(head_file) if head_file is not None else None
    verdict = open_audit(home_for(home, config)).verify(exported)
    if verdict.ok:
        suffix = "" if exported is None else f" (matches the exported head at seq {exported.seq})"
        console.print(verdict.describe() + suffix, highlight=False)
        return
    _broken(verdict)


@audit_app.command("head")
def head(
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the head to this file, not stdout.")
    ] = None,
    post: Annotated[
        str | None,
        typer.Option(
            "--post", help="Also send it through this webhook connector (respond.connectors table)."
        ),
    ] = None,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Export the chain head (one JSON line) to keep outside the home.

    Keep it in a ticket or a WORM store; check later with `garrison audit verify --head FILE`.
    """
    log = open_audit(home_for(home, config))
    verdict, exported = log.export_head()
    if not verdict.ok:
        _broken(verdict)
    if post is not None:
        from garrison.respond.anchor import post_head

        receipt = post_head(config_for(home, config), log, exported.text(), post)
        err_console.print(
            f"audit head seq {exported.seq} sent to {_show(post)} ({_show(receipt.reference)})",
            highlight=False,
        )
    if out is None:
        typer.echo(exported.text())
        return
    try:
        out.write_text(exported.text() + "\n", encoding="ascii")
    except OSError as exc:
        raise storage_error(exc, f"the head file {out}") from None
    console.print(
        f"audit head seq {exported.seq} written to {_show(out)}", highlight=False, soft_wrap=True
    )


def _broken(verdict: Verdict) -> NoReturn:
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
