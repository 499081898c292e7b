"""``garrison eval beacon|ueba|anomaly|nslkdd``: network and identity detector evaluations.

Each command reads the labelled corpus (``--corpus``, default ``$GARRISON_CORPUS`` or
``../shared/corpus``), prints a short table and writes the full JSON report (``--out``,
default ``HOME/eval/<name>.json``). ``register(app)`` adds the commands to a Typer group
(the ``garrison eval`` group calls it); ``net_app`` is the same commands on their own.
The evaluations are ``garrison.measure.ml_eval.<name>_eval.evaluate``; corpus and report
locations follow ``measure.ml_eval.reports``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from garrison.interfaces.cli.common import HomeOption, console

CorpusOption = Annotated[
    Path | None,
    typer.Option("--corpus", help="Corpus root (default $GARRISON_CORPUS, else ../shared/corpus)."),
]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="JSON report (default HOME/eval/NAME.json).")
]


def _corpus(given: Path | None, needs: str) -> Path:
    from garrison.measure.ml_eval.reports import corpus_root

    return corpus_root(given, needs)


def _write(report: dict[str, Any], out: Path | None, home: Path | None, name: str) -> Path:
    from garrison.measure.ml_eval.reports import write_report

    return write_report(report, out, home, name)


def eval_beacon(
    corpus: CorpusOption = None,
    threshold: Annotated[
        float, typer.Option("--threshold", help="Beacon score to report (0-1).")
    ] = 0.75,
    out: OutOption = None,
    home: HomeOption = None,
) -> None:
    """ml.beacon on the Stratosphere Zeek captures: C2 found, at what rank, benign noise."""
    from garrison.detect.ml.beacon import BeaconConfig
    from garrison.measure.ml_eval.beacon_eval import evaluate

    root = _corpus(corpus, "zeek-stratosphere")
    report = evaluate(root, BeaconConfig(threshold=threshold))
    table = Table(
        "capture",
        "kind",
        "events",
        "findings",
        "C2 pairs reported",
        "infected host rank",
        "C2 flow recall",
        "top finding (labels of its flows)",
    )
    for c in report["captures"]:
        pairs = c["c2_pair_rank"]
        hosts = c["infected_host_rank"]
        top = c["top"][0] if c["top"] else None
        table.add_row(
            c["capture"].split("-")[0],
            c["kind"],
            str(c["events"]),
            str(c["findings"]),
            f"{sum(p['reported'] for p in pairs.values())}/{len(pairs)}" if pairs else "-",
            ", ".join(
                f"{h['rank']}/{h['of']}" + ("" if h["reported"] else " (below)")
                for h in hosts.values()
            )
            or "-",
            "-" if c["flow_recall"] is None else f"{c['flow_recall']:.3f}",
            f"{top['dst']} {top['score']:.2f} {','.join(top['labels'])}" if top else "-",
        )
    console.print(table)
    _print_calibration(report["calibration"], "beacon (unit: scored pair)")
    console.print(f"report: {_write(report, out, home, 'beacon')}")


def _print_calibration(cal: dict[str, Any], title: str) -> None:
    """Leave-one-capture-out calibration quality: Brier against the references, then the
    reliability bins (predicted vs observed rate)."""
    loco = cal["leave_one_capture_out"]
    raw = cal["raw_tail_confidence_as_probability"]
    console.print(
        f"confidence calibration, {title}: {cal['records']} labelled, {cal['positives']} "
        f"positive; leave-one-capture-out Brier {loco.get('brier')} (no-skill "
        f"{cal['leave_one_capture_out_no_skill_brier']}, raw tail confidence "
        f"{raw.get('brier')}, in-sample {cal['in_sample_optimistic']['brier']})",
        highlight=False,
    )
    table = Table("predicted", "count", "positives", "mean predicted", "observed rate")
    for row in loco.get("reliability", []):
        table.add_row(
            row["bin"],
            str(row["count"]),
            str(row["positives"]),
            f"{row['mean_predicted']:.3f}",
            f"{row['observed_rate']:.3f}",
        )
    console.print(table)
    for note in (cal.get("warning"), cal.get("transfer_note")):
        if note:
            console.print(f"  warning: {note}", highlight=False)


def eval_ueba(
    corpus: CorpusOption = None,
    users: Annotated[
        int, typer.Option("--users", help="Users in the generated LANL background.")
    ] = 300,
    out: OutOption = None,
    home: HomeOption = None,
) -> None:
    """ml.ueba on OpenSSH brute force, LANL red team over background, Mordor captures and
    the demo scenario (generated in-process), with confidence-calibration quality."""
    from garrison.measure.ml_eval.ueba_eval import evaluate

    root = _corpus(corpus, "auth")
    report = evaluate(root, lanl_users=users)
    table = Table("set", "auth events", "attack", "findings", "TP", "FP", "FP/10k benign", "recall")
    for s in report["sets"]:
        recall = ", ".join(
            f"{k} {v['found']}/{v['total']}" for k, v in s["recall"].items() if v["total"]
        )
        table.add_row(
            s["set"],
            str(s["attack_events"] + s["benign_events"]),
            str(s["attack_events"]),
            str(s["findings"]),
            str(s["true_positives"]),
            str(s["false_positives"]),
            "-" if s["fp_per_10k_benign"] is None else f"{s['fp_per_10k_benign']:.1f}",
            recall or "-",
        )
    console.print(table)
    _print_calibration(report["calibration"], "ueba (unit: finding)")
    demo = report["calibration"].get("demo_held_out")
    if demo:
        console.print(
            f"  demo (never fitted on): {demo['records']} findings, {demo['positives']} TP, "
            f"Brier {demo['brier']}",
            highlight=False,
        )
    console.print(f"report: {_write(report, out, home, 'ueba')}")


def eval_anomaly(
    corpus: CorpusOption = None,
    seeds: Annotated[int, typer.Option("--seeds", help="Seeds per stochastic model.")] = 3,
    max_rows: Annotated[
        int | None,
        typer.Option("--max-rows", help="Stratified subsample per set (default: all rows)."),
    ] = None,
    out: OutOption = None,
    home: HomeOption = None,
) -> None:
    """Anomaly estimators on the ADBench sets: ROC-AUC against sklearn's IsolationForest."""
    from garrison.measure.ml_eval.anomaly_eval import evaluate

    root = _corpus(corpus, "anomaly-adbench")
    report = evaluate(root, seeds=list(range(seeds)), max_rows=max_rows)
    names = [n for n in report["summary"] if n != "sklearn_iforest_floor"]
    table = Table("set", "rows", "floor (sklearn IF)", *names)
    for row in report["sets"]:
        table.add_row(
            row["set"],
            str(row["rows"]),
            *(
                f"{row[n]['auc']:.3f} +/- {row[n]['sd']:.3f}"
                for n in ["sklearn_iforest_floor", *names]
            ),
        )
    table.add_row(
        "mean",
        "",
        *(f"{report['summary'][n]['mean_auc']:.3f}" for n in ["sklearn_iforest_floor", *names]),
    )
    console.print(table)
    console.print(f"report: {_write(report, out, home, 'anomaly')}")


def eval_nslkdd(
    corpus: CorpusOption = None,
    folds: Annotated[int, typer.Option("--folds", help="Stratified folds.")] = 5,
    out: OutOption = None,
    home: HomeOption = None,
) -> None:
    """The flow classifier on the NSL-KDD 20 % training set, cross-validated per category."""
    from garrison.measure.ml_eval.nslkdd_eval import evaluate

    root = _corpus(corpus, "nsl-kdd")
    report = evaluate(root, folds=folds)
    table = Table("category", "support", "precision", "recall", "F1", "recall @1% FPR")
    at_fpr = report["attack_vs_normal"]["recall_per_category_at_fpr"]
    for name, m in report["per_category"].items():
        table.add_row(
            name,
            str(m["support"]),
            f"{m['precision']:.4f}",
            f"{m['recall']:.4f}",
            f"{m['f1']:.4f}",
            "-" if at_fpr.get(name) is None else f"{at_fpr[name]:.4f}",
        )
    console.print(table)
    console.print(
        f"accuracy {report['accuracy']}, macro F1 {report['macro_f1']}, attack vs "
        f"normal ROC-AUC {report['attack_vs_normal']['roc_auc']}"
    )
    console.print(f"report: {_write(report, out, home, 'nslkdd')}")


COMMANDS: dict[str, Callable[..., None]] = {
    "beacon": eval_beacon,
    "ueba": eval_ueba,
    "anomaly": eval_anomaly,
    "nslkdd": eval_nslkdd,
}


def register(app: typer.Typer) -> None:
    """Add ``beacon``, ``ueba``, ``anomaly`` and ``nslkdd`` to a Typer group."""
    for name, command in COMMANDS.items():
        app.command(name)(command)


net_app = typer.Typer(
    name="eval-net", no_args_is_help=True, help="Evaluate the network and identity detectors."
)
register(net_app)


if __name__ == "__main__":  # pragma: no cover - manual use
    net_app()
