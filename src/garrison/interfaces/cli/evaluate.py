"""``garrison eval ...``: detector evaluations on labelled data. Others join ``eval_app``.

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
from dataclasses import replace
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
    if not data.is_dir():
        raise InputError(f"--data {data}: not a folder")
    from garrison.detect.ml.dga.build import default_holdout, heldout_lists
    from garrison.detect.ml.dga.data import load_dataset
    from garrison.measure.ml_eval.dga_eval import EvalConfig, evaluate

    dataset = load_dataset(data)
    cfg = EvalConfig(
        baseline=baseline,
        families=tuple(f.strip() for f in families.split(",")) if families else None,
    )
    if per_family is not None:
        cfg = replace(cfg, params=replace(cfg.params, per_family=per_family))
    unknown = [f for f in cfg.families or () if f not in dataset.families]
    if unknown:
        raise InputError(
            f"unknown families: {', '.join(unknown)} (known: {', '.join(sorted(dataset.families))})"
        )
    held = heldout_lists(holdout_benign or default_holdout(data), set())
    started = time.perf_counter()
    report = evaluate(
        dataset,
        held,
        cfg,
        progress=lambda m: err_console.print(
            f"[{time.perf_counter() - started:6.0f} s] {m}", highlight=False
        ),
    )
    report["seconds"] = round(time.perf_counter() - started, 1)
    target = out or resolve_home(home) / "eval" / "dga.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
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


def dns_capture_report(folder: Path, home: Path) -> dict[str, Any]:
    """Run ``ml.dga`` and ``ml.dns_tunnel`` over one capture folder; summarise findings."""
    from garrison.core.config import GarrisonConfig
    from garrison.detect.ml.dga.detector import DgaDetector
    from garrison.detect.ml.dga.model import load_model
    from garrison.detect.ml.tunnel import DnsTunnelDetector
    from garrison.pipeline import HuntService
    from garrison.store import MemoryEventStore, StateDB

    dga = DgaDetector(load_model())
    tunnel = DnsTunnelDetector()
    service = HuntService(
        GarrisonConfig(home=home), MemoryEventStore(), StateDB.memory(), detectors=[dga, tunnel]
    )
    report = service.run([str(folder)])
    findings = [
        {
            "analytic": f.analytic_uid,
            "title": f.title,
            "confidence": f.confidence,
            "entities": [e.key() for e in f.entities][:8],
        }
        for f in report.findings
    ]
    return {
        "records_read": report.total().records_read,
        "dns_names_seen": dga.stats()["names_seen"],
        "dga": dga.stats(),
        "tunnel": tunnel.stats(),
        "findings": findings,
    }


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
    if not data.is_dir():
        raise InputError(f"--data {data}: not a folder")
    state_home = resolve_home(home)
    captures = sorted(p for p in data.iterdir() if p.is_dir()) or [data]
    report = {p.name: dns_capture_report(p, state_home) for p in captures}
    target = out or state_home / "eval" / "dns.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
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
