"""``garrison kpi``: KPIs of detection and response, as a table, ``kpi.json`` and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from garrison.interfaces.cli.common import (
    ConfigOption,
    HomeOption,
    config_for,
    console,
    print_json,
    show,
)


def kpi(
    run: Annotated[
        Path | None,
        typer.Option("--run", help="A hunt's --out folder (default: everything in the state)."),
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            "--labels", help="Ground truth (the demo's labels.json or a malicious_files list)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for kpi.json and the plots (default HOME/kpi)."),
    ] = None,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Skip the PNG/SVG plots.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print kpi.json, not tables.")] = False,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """MTTD, MTTA, MTTR, alert-to-incident reduction, FP rate per rule, detector quality."""
    from garrison.measure.kpi.report import render_tables
    from garrison.measure.kpi.service import KpiRequest, compute

    request = KpiRequest(run=run, labels=labels, out=out, plots=not no_plots)
    result = compute(config_for(home, config), request)
    if as_json:
        print_json(result.kpis)
        return
    console.print(render_tables(result.kpis))
    console.print(
        f"kpi.json and {len(result.plots)} plot file(s) in {show(result.folder)}/",
        highlight=False,
    )
