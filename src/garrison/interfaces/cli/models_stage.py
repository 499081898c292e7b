"""``garrison models promote|rollback|stages``: a home model's stages, thin over
``garrison.measure.lifecycle.LifecycleService``.

``promote NAME VERSION --to shadow|canary|production`` moves a registered version one stage
on (a version goes shadow -> canary -> production; production keeps the version it replaces
as the rollback target), ``rollback NAME`` puts the previous production version back (the
shipped model when there was none), ``stages [NAME]`` lists them (``--json``: one object per
model). Moves need the model-owner role's ``models.promote`` and are audited; detectors
load the production version (``garrison.govern.registry.gate.production_model``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from garrison.core.config import load_config
from garrison.interfaces.cli.common import ConfigOption, HomeOption, console, print_json, show

if TYPE_CHECKING:
    from garrison.govern.registry.stages import Move
    from garrison.measure.lifecycle import LifecycleService


def _service(home: Path | None, config: Path | None) -> LifecycleService:
    """The service acting as the OS account's principal: its roles decide (model-owner
    for moves; in a home with no users, its owner holds every role)."""
    from garrison.govern.access import cli_principal
    from garrison.measure.lifecycle import LifecycleService
    from garrison.store.state import StateDB

    where = load_config(home, config).home
    state = StateDB(where / "state.db")
    try:
        principal = cli_principal(state)
    finally:
        state.close()
    return LifecycleService.open(where, principal=principal)


def _said(move: Move) -> str:
    """The move in one line (names and versions are text from cards: ``show`` them)."""
    name, version = show(move.name), show(move.version or "the shipped model")
    if move.action == "rollback":
        return f"rolled back {name}: production is now {version} (was {show(move.replaced)})"
    replaced = f" (replacing {show(move.replaced)})" if move.replaced else ""
    return f"promoted {name} {version} to {move.stage}{replaced}"


def promote(
    name: Annotated[str, typer.Argument(help="Model name (dga, url, email...).")],
    version: Annotated[str, typer.Argument(help="A registered version (see `models list`).")],
    to: Annotated[str, typer.Option("--to", help="Stage: shadow, canary or production.")],
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Move a registered version one stage on: shadow -> canary -> production."""
    console.print(_said(_service(home, config).promote(name, version, to)), highlight=False)


def rollback(
    name: Annotated[str, typer.Argument(help="Model name.")],
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Put the previous production version back in production (one command)."""
    console.print(_said(_service(home, config).rollback(name)), highlight=False)


def stages(
    name: Annotated[str | None, typer.Argument(help="Only this model (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per model.")] = False,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Each staged model: shadow, canary, production and the rollback target."""
    from rich.table import Table

    views = _service(home, config).stages(name)
    if as_json:
        print_json([v.as_json() for v in views])
        return
    table = Table("name", "shadow", "canary", "production", "rollback to", "status")
    for view in views:
        cells = [show(v or "-") for v in view.stages.values()]
        status = "[red]stage-invalid[/]" if view.problems else "ok"
        table.add_row(show(view.name), *cells, show(view.rollback_target or "-"), status)
    console.print(table)


def shadow_report(
    name: Annotated[str, typer.Argument(help="Model name.")],
    labels: Annotated[
        Path | None,
        typer.Option("--labels", help='Labelled feedback: JSON lines {"input", "label"}.'),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Compare the shadow version with production on the inputs both scored."""
    data = _service(home, config).shadow_report(name, labels).as_json()
    if as_json:
        print_json(data)
        return
    if data["shadow"] is None:
        console.print(f"{show(name)} has no version in shadow", highlight=False)
        return
    rate = "-" if data["agreement"] is None else f"{100 * data['agreement']:.1f} %"
    lines = [
        f"{show(name)}: shadow {show(data['shadow'])} beside production",
        f"lines compared {data['lines']} in {data['batches']} batch(es) "
        f"({data['failed_batches']} where the shadow failed); agreement {rate}",
        f"malicious: production {data['malicious']['production']}, "
        f"shadow {data['malicious']['shadow']}",
        f"ms per line: production {data['ms_per_line']['production']}, "
        f"shadow {data['ms_per_line']['shadow']}",
    ]
    for model, figures in data["labelled"].items():
        lines.append(
            f"labelled ({figures['labelled_lines']} lines) {model}: precision "
            f"{figures['precision']}, recall {figures['recall']}"
        )
    for row in data["disagreements"][:5]:
        lines.append(
            f"  {show(row['input'])}: production {row['production']}, shadow {row['shadow']}"
        )
    for line in lines:
        console.print(line, highlight=False)


def register(app: typer.Typer) -> None:
    """Add the stage commands to ``garrison models``."""
    app.command("promote")(promote)
    app.command("rollback")(rollback)
    app.command("stages")(stages)
    app.command("shadow-report")(shadow_report)
