"""``garrison kpi``: KPIs of detection and response, as a table, ``kpi.json`` and plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from garrison.core.config import load_config
from garrison.core.errors import UsageError
from garrison.interfaces.cli.common import ConfigOption, HomeOption, console


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
    from garrison.measure.kpi import compute_kpis, from_run, from_state, load_labels
    from garrison.measure.kpi.report import render_tables
    from garrison.store.state import StateDB

    cfg = load_config(home, config)
    if run is not None:
        if not run.is_dir():
            raise UsageError(f"--run {run}: not a folder")
        data = from_run(run)
    else:
        db = cfg.home / "state.db"
        if not db.is_file():
            raise UsageError(f"no state at {db}: run a hunt first, or give --run DIR")
        data = from_state(StateDB(db))
    truth = load_labels(labels) if labels is not None else None
    kpis = compute_kpis(data, truth)
    target = out or cfg.home / "kpi"
    target.mkdir(parents=True, exist_ok=True)
    (target / "kpi.json").write_text(json.dumps(kpis, indent=1, default=str), encoding="utf-8")
    written = []
    if not no_plots:
        from garrison.measure.kpi.plots import render

        written = render(kpis, data, truth, target)
    if as_json:
        console.print_json(json.dumps(kpis, default=str))
        return
    console.print(render_tables(kpis))
    console.print(f"kpi.json and {len(written)} plot file(s) in {target}/", highlight=False)
