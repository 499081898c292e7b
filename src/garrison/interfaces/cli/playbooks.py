"""``garrison playbooks check DIR`` and ``garrison playbooks simulate DIR``.

``check``: exit 0 with the count when all are valid, 1 listing each invalid playbook as
``FILE:LINE: reason``, 2 when the folder does not exist. ``simulate``: the collateral-impact
report of the folder's playbooks on the home's stored findings and incidents (exit 2 if a
playbook is invalid).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from garrison.core.errors import CheckFailed
from garrison.interfaces.cli.common import (
    ConfigOption,
    HomeOption,
    config_for,
    console,
    err_console,
    print_json,
    show,
)

playbooks_app = typer.Typer(
    name="playbooks",
    no_args_is_help=True,
    add_completion=False,
    help="Response playbooks: check them, simulate them on stored findings before go-live.",
)


@playbooks_app.callback()
def playbooks_main() -> None:
    """Response playbooks: check them, simulate them on stored findings before go-live."""


@playbooks_app.command("check")
def check(
    folder: Annotated[Path, typer.Argument(help="Folder of playbook YAML files.")],
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Load every playbook in DIR and list each invalid one as FILE:LINE: reason."""
    from garrison.respond.check import check_dir

    config_for(home, config)  # a broken configuration is reported as for every command
    report = check_dir(folder)
    for problem in report.problems:
        err_console.print(show(problem), highlight=False, soft_wrap=True)
    console.print(
        f"{len(report.playbooks)} playbook(s) valid, {len(report.problems)} invalid",
        highlight=False,
    )
    if report.problems:
        raise CheckFailed(f"{len(report.problems)} invalid playbook(s)")


@playbooks_app.command("simulate")
def simulate(
    folder: Annotated[Path, typer.Argument(help="Folder of playbook YAML files.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Replay stored findings and incidents through DIR in shadow: what would have run."""
    from garrison.govern.access import cli_principal
    from garrison.respond.service import ResponseService

    service = ResponseService.open(config_for(home, config), cli_principal)
    try:
        report = service.simulate([folder])
    finally:
        service.close()
    if as_json:
        print_json(report.to_json())
        return
    console.print(f"{report.subjects} stored finding(s) and incident(s) replayed", highlight=False)
    table = Table("playbook", "runs", "/day", "would run", "approvals", "refused", "assets")
    for impact in report.playbooks:
        table.add_row(
            show(impact.playbook),
            str(impact.runs),
            f"{impact.per_day:.2f}",
            _counts(impact.would_run),
            _counts(impact.approvals),
            _counts(impact.refused),
            show(", ".join(f"{len(v)} {k}" for k, v in sorted(impact.assets.items())) or "-"),
        )
    console.print(table)


def _counts(counter: dict[str, int]) -> str:
    return ", ".join(f"{n} {a}" for a, n in sorted(counter.items())) or "-"
