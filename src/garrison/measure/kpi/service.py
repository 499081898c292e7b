"""``kpi`` as a service: the CLI and the API ask it for the KPIs of a home or of one run.

It reads the state (or a hunt's ``--out`` folder), computes the KPIs against optional
labels, writes ``kpi.json`` and the plots into the target folder and returns what it wrote,
so an interface only renders the result and maps errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.core.config import GarrisonConfig
from garrison.core.errors import UsageError
from garrison.measure.kpi.data import KpiData, from_run, from_state
from garrison.measure.kpi.labels import load_labels
from garrison.measure.kpi.metrics import compute_kpis


@dataclass(slots=True)
class KpiRequest:
    """``run``: a hunt's output folder (default: the whole state of the home); ``labels``:
    ground truth; ``out``: where kpi.json and the plots go (default HOME/kpi)."""

    run: Path | None = None
    labels: Path | None = None
    out: Path | None = None
    plots: bool = True


@dataclass(slots=True)
class KpiResult:
    kpis: dict[str, Any]
    folder: Path
    plots: list[Path] = field(default_factory=list)


def _data(config: GarrisonConfig, run: Path | None) -> KpiData:
    from garrison.store.state import StateDB

    if run is not None:
        if not run.is_dir():
            raise UsageError(f"--run {run}: not a folder")
        return from_run(run)
    db = config.home / "state.db"
    if not db.is_file():
        raise UsageError(f"no state at {db}: run a hunt first, or give --run DIR")
    return from_state(StateDB(db))


def compute(config: GarrisonConfig, request: KpiRequest) -> KpiResult:
    """Compute the KPIs for ``request`` and write kpi.json (and the plots) for them."""
    data = _data(config, request.run)
    truth = load_labels(request.labels) if request.labels is not None else None
    kpis = compute_kpis(data, truth)
    target = request.out or config.home / "kpi"
    target.mkdir(parents=True, exist_ok=True)
    (target / "kpi.json").write_text(json.dumps(kpis, indent=1, default=str), encoding="utf-8")
    written: list[Path] = []
    if request.plots:
        from garrison.measure.kpi.plots import render

        written = list(render(kpis, data, truth, target))
    return KpiResult(kpis, target, written)


def read_kpis(config: GarrisonConfig, authorize: Callable[[str], None]) -> dict[str, Any]:
    """The KPIs of the whole state of the home, for an identity allowed ``kpi.read``;
    nothing is written (the API reads, ``compute`` is what writes kpi.json and plots)."""
    authorize("kpi.read")
    return compute_kpis(_data(config, None), None)
