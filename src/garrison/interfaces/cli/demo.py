"""``garrison demo``: generate a labelled intrusion over benign telemetry, hunt, score, explain."""

from __future__ import annotations

import shlex
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from garrison.core.errors import UsageError
from garrison.demo import service
from garrison.demo.service import DEFAULT_START, DemoOptions, DemoResult
from garrison.interfaces.cli.common import ConfigOption, HomeOption, console, err_console, show


def _fmt_delay(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for data, results and state.")] = Path(
        "garrison-demo"
    ),
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same bytes.")] = 7,
    users: Annotated[int, typer.Option("--users", help="People in the organisation.")] = 40,
    hosts: Annotated[int, typer.Option("--hosts", help="Windows and Linux machines.")] = 30,
    days: Annotated[int, typer.Option("--days", help="Days of telemetry.")] = 3,
    start: Annotated[
        str, typer.Option("--start", help="First day (YYYY-MM-DD, UTC).")
    ] = DEFAULT_START.isoformat(),
    rules: Annotated[list[Path] | None, typer.Option("--rules", help="Sigma rules folder.")] = None,
    home: HomeOption = None,
    config: ConfigOption = None,
    score_only: Annotated[
        bool,
        typer.Option(
            "--score-only",
            help="Only score DIR/results against DIR/data/labels.json (after "
            "rerunning `garrison hunt`).",
        ),
    ] = False,
) -> None:
    """Generate a realistic intrusion over benign telemetry, hunt through it, score the hunt."""
    try:
        first_day = date.fromisoformat(start)
    except ValueError:
        raise UsageError(f"--start must be a date like 2025-03-02, not {start!r}") from None
    options = DemoOptions(
        out=out,
        seed=seed,
        users=users,
        hosts=hosts,
        days=days,
        start=first_day,
        rules=list(rules or []),
        home=home,
        config=config,
    )
    if score_only:
        _print(service.score_only(options))
        return
    err_console.print(
        f"generating {days} days for {users} users on {hosts} hosts "
        f"(seed {seed}) and hunting through them ...",
        highlight=False,
    )
    _print(service.run_demo(options))


def _print(result: DemoResult) -> None:
    opts, ev, summary = result.options, result.evaluation, result.summary
    labels = result.generated.labels
    took = f", generated in {result.generated.seconds:.1f} s" if result.generated.seconds else ""
    console.print(
        f"data: {labels['records_total']:,} records ({labels['malicious_records']:,} "
        f"malicious){took}; hunt read "
        f"{summary['records_read']:,}, quarantined {summary['records_quarantined']:,}, "
        f"rules loaded {summary['rules_loaded']:,} ({summary['seconds']:.1f} s)",
        highlight=False,
    )
    table = Table(
        title="Attack stages: ground truth vs. this hunt (TTD: time to detect)", box=box.SIMPLE_HEAD
    )
    table.add_column("stage", no_wrap=True)
    table.add_column("tactic", no_wrap=True)
    for col in ("records", "found", "findings", "TTD"):
        table.add_column(col, justify="right", no_wrap=True)
    main_tactic = {s["name"]: s["techniques"][0]["tactic"] for s in labels["stages"]}
    for stage in ev.stages:
        mark = "[green]yes[/]" if stage.detected else "[red]no[/]"
        table.add_row(
            show(stage.name),
            show(main_tactic.get(stage.name, "")),
            f"{stage.records:,}",
            mark,
            str(stage.findings),
            _fmt_delay(stage.time_to_detect_s),
        )
    console.print(table)
    found = sum(1 for e in ev.entities if e.incident)
    console.print(
        f"stages detected {ev.stages_detected}/{len(ev.stages)}; findings {ev.findings_total} "
        f"({ev.true_positive_findings} on attack records, {ev.false_positive_findings} false "
        f"positives) in {ev.incidents_total} incidents ({len(ev.incidents)} about the attack); "
        f"attack entities inside an incident {found}/{len(ev.entities)}",
        highlight=False,
    )
    if ev.incidents:
        top = ev.incidents[0]
        console.print(
            f"top attack incident: risk {top.risk_score} {top.band}, "
            f"{top.attack_findings}/{top.findings} findings on attack records, "
            f"stages {show(', '.join(top.stages))}",
            highlight=False,
        )
    if ev.findings_total == 0:
        console.print(
            "[yellow]no findings:[/] no detector produced anything on this data "
            "(pass --rules with a Sigma rules folder, or enable detectors)."
        )
    for name, why in result.detector_errors.items():
        err_console.print(f"[red]detector {show(name)} failed:[/] {show(why)}", highlight=False)
    res = opts.results_dir
    lines = (
        "",
        "where to look:",
        f"  data     {show(opts.logs_dir)}/ (auth.log, conn.log, dns.log, events.jsonl)",
        f"  truth    {show(opts.labels_path)}",
        f"  results  {show(res)}/incidents.jsonl, findings.jsonl, summary.json",
        f"  score    {show(res)}/demo-eval.json",
        f"  rerun    {show(result.hunt_command)}",
        f"  rescore  garrison demo --out {show(shlex.quote(str(opts.out)))} --score-only",
    )
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
