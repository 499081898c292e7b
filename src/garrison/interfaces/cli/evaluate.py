"""``garrison eval ...``: detector evaluations on labelled data. Others join ``eval_app``.

The evaluations themselves live in ``garrison.measure.ml_eval`` (``<name>_eval.evaluate``);
these commands parse the options, call them and print.

``garrison eval dga --data DIR`` retrains the DGA recipe per split (random, leave one
family out with all / none / all but the closest synthetic generator, leave the dictionary
families out together), prints the tables and writes the JSON report (``--out``, default
``HOME/eval/dga.json``).

``garrison eval dns --data DIR`` runs the DNS detectors (``ml.dga``, ``ml.dns_tunnel``)
through the real hunt pipeline over each capture folder under DIR (e.g. the Stratosphere
Zeek captures) and reports, per capture, the DNS events read and what fired, so the
findings on benign captures are visible beside those on malicious ones.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from garrison.core.config import resolve_home
from garrison.core.errors import InputError
from garrison.interfaces.cli.common import HomeOption, console, err_console

eval_app = typer.Typer(
    name="eval", no_args_is_help=True, help="Evaluate detectors on labelled data."
)


@eval_app.command("dga")
def eval_dga(
    data: Annotated[Path, typer.Option("--data", help="DGA dataset folder (corpus/dga).")],
    out: Annotated[
        Path | None, typer.Option("--out", help="JSON report (default HOME/eval/dga.json).")
    ] = None,
    holdout_benign: Annotated[
        list[Path] | None,
        typer.Option("--holdout-benign", help="Benign list never trained on (repeatable)."),
    ] = None,
    families: Annotated[
        str | None,
        typer.Option("--families", help="Comma-separated families to hold out (default all)."),
    ] = None,
    per_family: Annotated[
        int | None, typer.Option("--per-family", help="Training names per family.")
    ] = None,
    baseline: Annotated[
        bool, typer.Option("--baseline/--no-baseline", help="Also run the TF-IDF floor.")
    ] = True,
    home: HomeOption = None,
) -> None:
    """Random split, leave-family-out and held-out-benign figures for the DGA model."""
    from garrison.measure.ml_eval.dga_eval import evaluate_folder
    from garrison.measure.ml_eval.reports import write_report

    started = time.perf_counter()
    report = evaluate_folder(
        data,
        holdout_benign,
        [f.strip() for f in families.split(",")] if families else None,
        per_family,
        baseline,
        progress=lambda m: err_console.print(
            f"[{time.perf_counter() - started:6.0f} s] {m}", highlight=False
        ),
    )
    target = write_report(report, out, home, "dga", final_newline=True)
    _print(report)
    console.print(f"report written to {target} ({report['seconds']} s)", highlight=False)


def _row(name: str, m: dict[str, Any]) -> list[str]:
    base = m.get("baseline", {})
    return [
        name,
        str(m["n"]),
        f"{m['auc']:.4f}",
        f"{m['recall_at_threshold']:.3f}",
        f"{m['recall_at_1pct_fpr_test']:.3f}",
        f"{m['benign_fpr_at_threshold']:.4f}",
        f"{base['auc']:.4f}" if base else "-",
        f"{base['recall_at_threshold']:.3f}" if base else "-",
    ]


def _table(title: str, rows: dict[str, dict[str, Any]]) -> Table:
    table = Table(title=title)
    for col in (
        "family",
        "n",
        "AUC",
        "recall@thr",
        "recall@1%FPR(test)",
        "benign FPR@thr",
        "floor AUC",
        "floor recall@thr",
    ):
        table.add_column(col)
    for name, m in rows.items():
        table.add_row(*_row(name, m))
    return table


#: The leave-family-out views, all printed: the synthetic training names help, and how much
#: of the result comes from them is part of the result.
_LOFO_VIEWS = (
    ("leave_family_out", "Leave one family out (family never in training)"),
    ("leave_family_out_no_synthetic", "Leave one family out, no synthetic training names"),
    (
        "leave_generator_out",
        "Leave one family out and the synthetic generator closest to it",
    ),
)


def _print(report: dict[str, Any]) -> None:
    rs = report.get("random_split")
    if rs:
        console.print(
            _table(
                "Random split (every family in training)",
                {"pooled": rs["pooled"], **rs["families"]},
            )
        )
        console.print(
            f"held-out benign lists: {json.dumps(rs['heldout_benign'])}; "
            f"cross-source (others): {json.dumps(rs['cross_source'])}",
            highlight=False,
        )
    for key, title in _LOFO_VIEWS:
        lofo = report.get(key, {})
        if lofo.get("families"):
            console.print(_table(title, lofo["families"]))
            console.print(f"summary: {json.dumps(lofo['summary'])}", highlight=False)
    dict_out = report.get("leave_dictionary_out")
    if dict_out:
        console.print(_table("Dictionary families held out together", dict_out["families"]))


@eval_app.command("dns")
def eval_dns(
    data: Annotated[
        Path, typer.Option("--data", help="Folder of capture folders (corpus/zeek-stratosphere).")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="JSON report (default HOME/eval/dns.json).")
    ] = None,
    home: HomeOption = None,
) -> None:
    """What the DNS detectors find on each capture (malicious and benign alike)."""
    from garrison.measure.ml_eval.dns_eval import evaluate
    from garrison.measure.ml_eval.reports import write_report

    if not data.is_dir():
        raise InputError(f"--data {data}: not a folder")
    report = evaluate(data, resolve_home(home))
    target = write_report(report, out, home, "dns", final_newline=True)
    table = Table(title="DNS detectors per capture")
    for col in ("capture", "records", "names seen", "scored", "DGA-flagged domains", "findings"):
        table.add_column(col)
    for name, r in report.items():
        fired = ", ".join(f"{f['analytic']}({f['confidence']})" for f in r["findings"]) or "-"
        table.add_row(
            name,
            str(r["records_read"]),
            str(r["dns_names_seen"]),
            str(r["dga"]["scored"]),
            str(r["dga"]["malicious_domains"]),
            fired,
        )
    console.print(table)
    console.print(f"report written to {target}", highlight=False)
