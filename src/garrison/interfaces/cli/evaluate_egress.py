"""``garrison eval egress``: ml.egress on every Stratosphere capture (what fires where there is
no exfiltration, what is found where there is) and on the generated demo scenario (see
``measure.ml_eval.egress_eval``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from garrison.interfaces.cli.common import HomeOption, console
from garrison.interfaces.cli.evaluate_net import CorpusOption, OutOption, _corpus, _write


def eval_egress(
    corpus: CorpusOption = None,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Also generate and score the demo.")
    ] = True,
    out: OutOption = None,
    home: HomeOption = None,
) -> None:
    """Large outbound transfers: findings per capture, false positives, the demo's exfil."""
    from garrison.measure.ml_eval.egress_eval import evaluate_with_demo

    report = evaluate_with_demo(_corpus(corpus, "zeek-stratosphere"), demo)
    table = Table("capture", "kind", "outbound buckets", "findings", "verdicts")
    for c in report["captures"]:
        verdicts = ", ".join(f"{k} {v}" for k, v in sorted(c["verdicts"].items())) or "-"
        table.add_row(
            c["capture"], c["kind"], str(c["outbound_buckets"]), str(c["findings"]), verdicts
        )
    console.print(table)
    benign = report["no_exfiltration_captures"]
    console.print(
        f"captures without exfiltration: {benign['false_positives']} false positives over "
        f"{benign['outbound_buckets']} outbound (source, destination, day) buckets",
        highlight=False,
    )
    d = report.get("demo")
    if d:
        console.print(
            f"demo: {d['findings']} findings, {d['false_positives']} false positives over "
            f"{d['outbound_buckets']} buckets; exfiltration found: {d['exfiltration_found']}",
            highlight=False,
        )
    console.print(f"report: {_write(report, out, home, 'egress')}")


def register(app: typer.Typer) -> None:
    app.command("egress")(eval_egress)
