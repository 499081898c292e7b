"""``garrison playbooks check DIR``: every playbook of a folder checked before any runs.

Exit 0 with the count when all are valid, 1 listing each invalid playbook as
``FILE:LINE: reason``, 2 when the folder does not exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from garrison.core.errors import CheckFailed
from garrison.interfaces.cli.common import (
    ConfigOption,
    HomeOption,
    config_for,
    console,
    err_console,
    show,
)

playbooks_app = typer.Typer(
    name="playbooks",
    no_args_is_help=True,
    add_completion=False,
    help="Response playbooks: check them before they run.",
)


@playbooks_app.callback()
def playbooks_main() -> None:
    """Response playbooks: check them before they run."""


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
