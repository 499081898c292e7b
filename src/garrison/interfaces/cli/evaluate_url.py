"""``garrison eval url``: the phishing-URL model on a random split and on a split by
registered domain, with the artefact ablation and the char n-gram floor (see
``garrison.measure.ml_eval.url_eval``). ``--card`` writes the summary into a model card trained
on the same data with the same parameters."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from garrison.interfaces.cli.common import HomeOption, console, err_console
from garrison.interfaces.cli.evaluate_net import _write


def eval_url(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="URL folder (default CORPUS/phishing-urls)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="JSON report (default HOME/eval/url.json).")
    ] = None,
    baseline: Annotated[
        bool, typer.Option("--baseline/--no-baseline", help="Also run the char n-gram floor.")
    ] = True,
    ablation: Annotated[
        bool, typer.Option("--ablation/--no-ablation", help="Also train with the artefacts.")
    ] = True,
    card: Annotated[
        Path | None,
        typer.Option("--card", help="Model card (url.card.json) to write the summary into."),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Random and domain-disjoint splits, artefact ablation, char n-gram floor."""
    from garrison.measure.ml_eval.reports import data_folder
    from garrison.measure.ml_eval.url_eval import EvalConfig, attach_to_card, evaluate_folder

    folder = data_folder(data, "phishing-urls")
    started = time.perf_counter()
    report = evaluate_folder(
        folder,
        EvalConfig(baseline=baseline, ablation=ablation),
        progress=lambda m: err_console.print(
            f"[{time.perf_counter() - started:5.0f} s] {m}", highlight=False
        ),
    )
    _print(report)
    if card is not None:
        attach_to_card(card, report)
        console.print(f"evaluation summary written into {card}", highlight=False)
    console.print(f"report: {_write(report, out, home, 'url')}", highlight=False)


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}"


def _print(report: dict[str, Any]) -> None:
    console.print(f"dataset: {report['dataset']}", highlight=False)
    table = Table(
        "split", "variant", "AUC", "accuracy", "precision", "recall", "FPR@thr", "rec@1%FPR",
        "https-www phish recall", "http legit FPR",
    )  # fmt: skip
    for name, entry in report["splits"].items():
        for variant in ("model", "with_artefacts", "floor", "floor_normalized"):
            m = entry.get(variant)
            if not m:
                continue
            rw = m.get("rewritten", {})
            table.add_row(
                f"{name} ({entry['sites_in_both']} shared sites)",
                variant,
                _fmt(m["auc"]),
                _fmt(m["accuracy"]),
                _fmt(m["precision"]),
                _fmt(m["recall"]),
                _fmt(m["fpr_at_threshold"]),
                _fmt(m["recall_at_1pct_fpr"]),
                _fmt(rw.get("phishing_as_https_www_recall")),
                _fmt(rw.get("legitimate_as_http_fpr")),
            )
    console.print(table)
    art = Table("artefact", "AUC alone", "phishing", "legitimate")
    for name, row in report.get("artefacts", {}).items():
        share = ("phishing_share", "legitimate_share")
        if "phishing_median" in row:
            share = ("phishing_median", "legitimate_median")
        art.add_row(name, f"{row['auc_alone']:.3f}", str(row[share[0]]), str(row[share[1]]))
    console.print(art)


def register(app: typer.Typer) -> None:
    app.command("url")(eval_url)
