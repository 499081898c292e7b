"""``garrison rules check DIR...``: load Sigma rules and report every one that cannot be used.

Exit 0 when every rule loaded, 1 when any failed (each failure printed with its reason),
2 when a folder does not exist.
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

rules_app = typer.Typer(
    name="rules", no_args_is_help=True, add_completion=False, help="Work with Sigma rule folders."
)


@rules_app.callback()
def rules_main() -> None:
    """Work with Sigma rule folders (keeps ``check`` a sub-command)."""


@rules_app.command("check")
def check(
    paths: Annotated[list[Path], typer.Argument(help="Rule files or folders.")],
    home: HomeOption = None,
    config: ConfigOption = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Parse every rule afresh.")] = False,
) -> None:
    """Load the rules as ``hunt`` would and list every rule that fails, with the reason."""
    from garrison.detect.sigma.check import check_rules

    detector = check_rules(config_for(home, config), paths, cache=not no_cache)
    ruleset = detector.ruleset
    for label, reason in sorted(ruleset.errors.items()):
        err_console.print(
            f"[red]FAILED[/] {show(label)}: {show(reason)}", highlight=False, soft_wrap=True
        )
    console.print(
        f"{ruleset.loaded} rules loaded ({len(ruleset.correlations)} correlations, "
        f"{ruleset.filters} filters, {ruleset.disabled} disabled), "
        f"{len(ruleset.errors)} failed, {len(ruleset.unmapped)} with a logsource "
        f"the mapping does not know (applied to all events of their product) "
        f"in {detector.load_seconds:.1f} s",
        highlight=False,
    )
    if ruleset.errors:
        raise CheckFailed(f"{len(ruleset.errors)} rule(s) failed to load")
