"""``garrison models redteam NAME``: attack one of Garrison's own models, with and without
its defence (``garrison.measure.redteam``; the attacks are listed in its ``attacks.yaml``).

Prints one table per attack with a row per side, in the columns of its kind. Evasion:
success rate, median perturbation (L2 and L-inf over the attacker-controlled features,
scaled to each feature's range), the median L2 the attacker needs over all points, the
share of successes that pass the realisability check, queries per point and the side's
clean accuracy and AUC. Extraction: the stolen copy's agreement with our model, queries
made and queries until the guard flagged the thief. Poisoning: attack success rate,
poisoned rows found and clean rows flagged by the training checks, clean accuracy.
``--json`` prints the report as JSON instead. Exit 0 when the run completed (the figures
are the finding), 2 on bad usage or a missing corpus.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from garrison.interfaces.cli.common import (
    ConfigOption,
    HomeOption,
    console,
    home_for,
    print_json,
)

if TYPE_CHECKING:
    from garrison.measure.redteam.contract import AttackResult
    from garrison.measure.redteam.service import RedTeamReport


def redteam(
    name: Annotated[str, typer.Argument(help="Model to attack: dga or url.")],
    attacks: Annotated[
        str | None,
        typer.Option(
            "--attacks",
            help="Comma-separated attack names or kinds (evasion, extraction, poisoning); "
            "default all.",
        ),
    ] = None,
    budget: Annotated[
        int,
        typer.Option(
            "--budget",
            help="Queries per attacked point (evasion); the thief's total queries (extraction).",
        ),
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 7,
    points: Annotated[int, typer.Option("--points", help="Malicious points attacked.")] = 50,
    per_group: Annotated[
        int, typer.Option("--per-group", help="Corpus rows drawn per family / class.")
    ] = 1500,
    corpus: Annotated[
        Path | None,
        typer.Option(
            "--corpus", help="Corpus root (default $GARRISON_CORPUS, else ../shared/corpus)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Red-team a model with ART attacks restricted to what an attacker controls."""
    home_for(home, config)  # a broken --config is a usage error here too; no state is kept
    from garrison.measure.ml_eval.reports import corpus_root
    from garrison.measure.redteam.service import RedTeamRequest, run_redteam
    from garrison.measure.redteam.targets import corpus_part

    root = corpus_root(corpus, corpus_part(name))
    request = RedTeamRequest(name, root, attacks, budget, seed, points, per_group)
    report = run_redteam(request)
    if as_json:
        print_json(report.to_json())
        return
    _print(report)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _print(report: RedTeamReport) -> None:
    for result in report.results:
        if result.kind in _KIND_TABLES:
            console.print(_KIND_TABLES[result.kind](report.model, result))
            _verdict(report.done(result), None)
            continue
        table = Table(
            "side", "success", "median L2", "median Linf", "needed L2", "realisable",
            "queries/pt", "clean acc", "AUC",
            title=f"{report.model}: {result.attack} ({result.kind}), budget {result.budget}, "
            f"seed {result.seed}, {result.seconds:.0f} s",
        )  # fmt: skip
        for side, o in (("undefended", result.undefended), ("defended", result.defended)):
            table.add_row(
                side, f"{o.success_rate:.0%} of {o.points}", _fmt(o.median_l2),
                _fmt(o.median_linf), _fmt(o.needed_l2), _fmt(o.realisable_rate, 2),
                f"{o.queries_per_point:.0f}", _fmt(o.clean.get("accuracy"), 4),
                _fmt(o.clean.get("auc"), 4),
            )  # fmt: skip
        console.print(table)
        _verdict(report.done(result), result.perturbation_ratio)
    for name, why in report.skipped.items():
        console.print(f"skipped {name}: {why}", highlight=False, markup=False)
    notes = sorted({n for r in report.results for n in r.notes})
    for note in notes:
        console.print(f"note: {note}", highlight=False, markup=False)


def _verdict(done: bool | None, ratio: float | None) -> None:
    verdict = (
        "issue 13 bar does not apply (the attack fails on most points undefended)"
        if done is None
        else f"issue 13 bar {'met' if done else 'NOT met'}"
    )
    prefix = "" if ratio is None and done is not None else (
        f"needed-L2 ratio defended/undefended: {_fmt(ratio, 2)} - "
    )  # fmt: skip
    console.print(prefix + verdict, highlight=False)


def _title(model: str, result: AttackResult) -> str:
    return (f"{model}: {result.attack} ({result.kind}), budget {result.budget}, "
            f"seed {result.seed}, {result.seconds:.0f} s")  # fmt: skip


def _extraction(model: str, result: AttackResult) -> Table:
    table = Table("side", "agreement", "queries", "flagged at", "signals",
                  title=_title(model, result))  # fmt: skip
    for side, o in (("undefended", result.undefended), ("defended", result.defended)):
        table.add_row(
            side, f"{o.success_rate:.3f} on {o.points}", str(o.queries),
            _fmt(o.extra.get("queries_until_flagged")),
            ", ".join(o.extra.get("signals", [])) or "-",
        )  # fmt: skip
    return table


def _poisoning(model: str, result: AttackResult) -> Table:
    table = Table("side", "ASR", "poison found", "false positives", "clean acc",
                  title=_title(model, result))  # fmt: skip
    for side, o in (("undefended", result.undefended), ("defended", result.defended)):
        table.add_row(
            side, f"{o.success_rate:.3f}", _fmt(o.extra.get("poison_found")),
            _fmt(o.extra.get("false_positives")), _fmt(o.clean.get("accuracy"), 4),
        )  # fmt: skip
    return table


_KIND_TABLES: dict[str, Callable[[str, AttackResult], Table]] = {
    "extraction": _extraction,
    "poisoning": _poisoning,
}
