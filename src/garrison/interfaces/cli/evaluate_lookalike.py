"""``garrison eval lookalike``: ml.lookalike's false positives on the benign domain lists and
precision / recall on the phishing-URL host names (see ``measure.ml_eval.lookalike_eval``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from garrison.interfaces.cli.common import HomeOption, console
from garrison.interfaces.cli.evaluate_net import CorpusOption, OutOption, _corpus, _write


def eval_lookalike(
    corpus: CorpusOption = None,
    brands: Annotated[
        Path | None, typer.Option("--brands", help="Brand list YAML (default: the bundled one).")
    ] = None,
    out: OutOption = None,
    home: HomeOption = None,
) -> None:
    """Lookalike domains: benign-list false positives, phishing-host precision and recall."""
    from garrison.measure.ml_eval.lookalike_eval import evaluate

    root = _corpus(corpus, "phishing-urls")
    report = evaluate(root, str(brands) if brands else "")
    table = Table("benign list", "domains", "flagged", "FP rate", "by transformation")
    for name, row in report["benign"].items():
        table.add_row(
            name,
            f"{row['domains']:,}",
            str(row["flagged"]),
            f"{100 * row['fp_rate']:.2f} %",
            ", ".join(f"{k} {v}" for k, v in row.get("by_transformation", {}).items()),
        )
    console.print(table)
    p = report["phishing_urls"]
    console.print(
        f"phishing-URL hosts: {p['true_positives']} of {p['phishing_hosts']:,} phishing hosts "
        f"flagged (recall {p['recall']:.4f}), {p['false_positives']} of "
        f"{p['legitimate_hosts']:,} legitimate hosts (precision {p['precision']:.3f}); "
        "most phishing hosts imitate no brand, so recall is partial by design"
    )
    per = Table("transformation", "TP", "FP", "precision")
    for name, row in sorted(p["by_transformation"].items()):
        per.add_row(name, str(row["tp"]), str(row["fp"]), f"{row['precision']:.3f}")
    console.print(per)
    console.print(f"report: {_write(report, out, home, 'lookalike')}")


def register(app: typer.Typer) -> None:
    app.command("lookalike")(eval_lookalike)
