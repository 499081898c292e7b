"""``garrison respond`` and ``garrison approvals list|approve|reject``.

Thin: each command opens the ``ResponseService`` on the home as the registered user of
the operating-system account (``govern.access``: an unregistered account is refused with
the command that registers it), calls it and prints. Parameters, reasons and subject
titles are attacker-influenced text: they reach the terminal through ``show`` only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from garrison.core.errors import UsageError
from garrison.core.timeutil import iso
from garrison.interfaces.cli.common import (
    ConfigOption,
    HomeOption,
    config_for,
    console,
    print_json,
    show,
)

approvals_app = typer.Typer(
    name="approvals",
    no_args_is_help=True,
    add_completion=False,
    help="Actions waiting for a human: list, approve (optionally with edits), reject.",
)

PlaybookDirs = Annotated[
    list[Path] | None,
    typer.Option(
        "--playbooks",
        help="Folder of playbooks (repeatable); default: the playbooks Garrison ships.",
    ),
]
ModeOption = Annotated[
    str | None,
    typer.Option(
        "--mode",
        help="Cap every playbook's mode: shadow (decide, record, do nothing), dry-run "
        "(connectors' validation path only) or live.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _service(home: Path | None, config: Path | None) -> Any:
    from garrison.govern.access import cli_principal
    from garrison.respond.service import ResponseService

    return ResponseService.open(config_for(home, config), cli_principal)


def respond(
    playbooks: PlaybookDirs = None,
    mode: ModeOption = None,
    as_json: AsJson = False,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Run playbooks on findings and incidents no playbook has handled yet."""
    service = _service(home, config)
    try:
        summary = service.respond(playbooks or [], mode)
    finally:
        service.close()
    if as_json:
        print_json(summary.to_json())
        return
    for playbook, effective in summary.modes.items():
        started = summary.started.get(playbook, 0)
        console.print(f"{show(playbook)} ({effective}): {started} new run(s)", highlight=False)
    steps = ", ".join(f"{n} {s}" for s, n in sorted(summary.steps.items())) or "none"
    console.print(
        f"steps: {steps}; resumed {summary.resumed} run(s); {summary.expired} approval(s) "
        f"expired; {summary.pending} approval(s) pending (garrison approvals list)",
        highlight=False,
    )


@approvals_app.callback()
def approvals_main() -> None:
    """Actions waiting for a human: list, approve (optionally with edits), reject."""


@approvals_app.command("list")
def list_approvals(
    every: Annotated[bool, typer.Option("--all", help="Decided ones too.")] = False,
    as_json: AsJson = False,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Approvals waiting for a decision (with --all: every approval)."""
    service = _service(home, config)
    try:
        views = service.list_approvals(None if every else "pending")
    finally:
        service.close()
    rows = [_view_json(v) for v in views]
    if as_json:
        print_json(rows)
        return
    table = Table("status", "action", "params", "votes", "expires", "playbook", "subject")
    table.add_column("id", no_wrap=True, min_width=15)  # copied into approve/reject
    for row in rows:
        table.add_row(
            row["status"],
            f"{row['action']} ({row['impact']})",
            show(", ".join(f"{k}={v}" for k, v in row["params"].items()), 60),
            f"{row['votes']}/{row['quorum']}",
            row["expires"] or "-",
            show(row["playbook"]),
            show(row["subject"], 50),
            row["id"],
        )
    console.print(table)


def _view_json(view: Any) -> dict[str, Any]:
    ap = view.approval
    current = [v for v in view.votes if v.decision == "approve" and v.current]
    return {
        "id": ap.id,
        "status": ap.status,
        "action": ap.action,
        "impact": ap.impact,
        "params": ap.params,
        "why": ap.reason,
        "quorum": ap.quorum,
        "votes": len(current),
        "voters": [v.identity for v in view.votes],
        "expires": iso(ap.expires_at) if ap.expires_at else None,
        "fallback": ap.fallback,
        "escalated": ap.escalated_at is not None,
        "playbook": view.playbook,
        "subject": f"{view.subject.get('kind', '')} {view.subject.get('uid', '')}: "
        f"{view.subject.get('title', '')}",
    }


def _edits(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set takes KEY=VALUE, not {show(item, 40)!r}")
        out[key.strip()] = value
    return out


@approvals_app.command("approve")
def approve(
    approval_id: Annotated[str, typer.Argument(help="The approval's id (approvals list).")],
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", help="Change a parameter before approving: KEY=VALUE."),
    ] = None,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Approve an action, optionally with edited parameters; it runs once the quorum is met."""
    edits = _edits(sets or [])
    service = _service(home, config)
    try:
        row = service.approve(approval_id, edits)
    finally:
        service.close()
    console.print(f"{row.id}: {row.status}", highlight=False)


@approvals_app.command("reject")
def reject(
    approval_id: Annotated[str, typer.Argument(help="The approval's id (approvals list).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")],
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Reject an action with a reason; the playbook's failure branch, if any, runs."""
    service = _service(home, config)
    try:
        row = service.reject(approval_id, reason)
    finally:
        service.close()
    console.print(f"{row.id}: {row.status}", highlight=False)


actions_app = typer.Typer(
    name="actions",
    no_args_is_help=True,
    add_completion=False,
    help="Actions playbooks took: list them, undo a reversible one.",
)


@actions_app.callback()
def actions_main() -> None:
    """Actions playbooks took: list them, undo a reversible one."""


@actions_app.command("list")
def list_actions(
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 50,
    as_json: AsJson = False,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Executed (and undone) actions, most recent first, with their idempotency keys."""
    service = _service(home, config)
    try:
        rows = service.actions(limit)
    finally:
        service.close()
    data = [
        {
            "key": r.key,
            "action": r.action,
            "impact": r.impact,
            "status": r.status,
            "params": r.params,
            "reference": r.reference,
        }
        for r in rows
    ]
    if as_json:
        print_json(data)
        return
    table = Table("action", "status", "params", "reference")
    table.add_column("key", no_wrap=True, min_width=35)  # copied into actions undo
    for row in data:
        table.add_row(
            f"{row['action']} ({row['impact']})",
            row["status"],
            show(", ".join(f"{k}={v}" for k, v in row["params"].items()), 60),
            show(row["reference"], 40),
            row["key"],
        )
    console.print(table)


@actions_app.command("undo")
def undo(
    key: Annotated[str, typer.Argument(help="The action's key (actions list).")],
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Revert a reversible action through the connector that did it."""
    service = _service(home, config)
    try:
        row = service.undo(key)
    finally:
        service.close()
    console.print(f"{row.key}: {row.status}", highlight=False)
