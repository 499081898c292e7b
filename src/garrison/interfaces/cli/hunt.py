"""``garrison hunt``: the main job, per its contract in docs/contracts.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from garrison.core.incidents import Incident
from garrison.core.timeutil import iso
from garrison.interfaces.cli.common import (
    ConfigOption,
    HomeOption,
    config_for,
    console,
    err_console,
    show,
)
from garrison.outputs import write_outputs
from garrison.pipeline import HuntReport, HuntRequest, HuntService


def hunt(
    paths: Annotated[list[str], typer.Argument(help="Files and folders to hunt through.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the result files.")],
    rules: Annotated[list[Path] | None, typer.Option("--rules", help="Sigma rules folder.")] = None,
    intel: Annotated[list[Path] | None, typer.Option("--intel", help="STIX/MISP/IOC file.")] = None,
    assets: Annotated[Path | None, typer.Option("--assets", help="Asset inventory.")] = None,
    engine: Annotated[str, typer.Option("--engine", help="embedded or spark")] = "embedded",
    home: HomeOption = None,
    config: ConfigOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Ingest, detect, triage and correlate; write findings, incidents, quarantine, summary."""
    request = HuntRequest(
        rules=rules or [], intel=intel or [], assets=assets, engine=engine, inputs=paths, out=out
    )
    service = HuntService.for_request(config_for(home, config), request)
    report = _run_with_progress(service, paths, quiet)
    summary = write_outputs(report, out)
    for problem in report.files_failed:
        err_console.print(
            f"[yellow]skipped[/] {show(problem.display)}: {show(problem.reason)}",
            highlight=False,
            soft_wrap=True,
        )
    _print_intel(report)
    _print_rule_problems(report)
    _print_summary(report, summary, out)
    if report.files_read == 0 and report.files_failed:
        raise typer.Exit(2)


def _print_intel(report: HuntReport) -> None:
    """One line on the intel feeds: what was usable, what was not and which files failed
    (details in summary.json under detectors.intel)."""
    stats = report.detector_stats.get("intel")
    if not stats:
        return
    loaded = sum(stats.get("indicators", {}).values())
    failed = stats.get("files_failed") or {}
    line = (
        f"intel: {loaded:,} indicators from {len(stats.get('files', []))} files"
        f", {stats.get('unusable_total', 0):,} unusable"
        f", {stats.get('suppressed_total', 0):,} refused by warning lists (see summary.json)"
    )
    err_console.print(show(line), highlight=False, soft_wrap=True)
    for path, reason in failed.items():
        err_console.print(
            f"[yellow]intel file not read[/] {show(path)}: {show(reason)}",
            highlight=False,
            soft_wrap=True,
        )


def _print_rule_problems(report: HuntReport) -> None:
    """Rules that did not load, counted; duplicate ids and replaced bundled rules named
    (they change which rule a finding comes from)."""
    sigma = report.detector_stats.get("sigma") or {}
    for label, note in (sigma.get("rules_overridden_detail") or {}).items():
        err_console.print(
            f"[yellow]rule replaced[/] {show(label)}: {show(note)}",
            highlight=False,
            soft_wrap=True,
        )
    for label, reason in report.rules_failed.items():
        if reason.startswith("duplicate rule id"):
            err_console.print(
                f"[red]rule not loaded[/] {show(label)}: {show(reason)}",
                highlight=False,
                soft_wrap=True,
            )
    if report.rules_failed:
        err_console.print(
            f"{len(report.rules_failed):,} rule(s) failed to load "
            "(reasons under rules_failed_detail in summary.json)",
            highlight=False,
        )


def _run_with_progress(service: HuntService, paths: list[str], quiet: bool) -> HuntReport:
    if quiet or not console.is_terminal:
        return service.run(paths)
    columns = (
        TextColumn("[bold]hunting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def tick(name: str, total: int) -> None:
            bar.update(task, total=total, advance=1, description=show(Path(name).name, 40))

        return service.run(paths, progress=tick)


def _one_line(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _incident_row(rank: int, inc: Incident) -> list[str]:
    colour = {"Critical": "red", "High": "bright_red", "Moderate": "yellow"}.get(inc.band, "")
    band = f"[{colour}]{inc.band}[/]" if colour else inc.band
    return [
        str(rank),
        f"{inc.risk_score} {band}",
        str(len(inc.finding_uids)),
        iso(inc.first_time)[:16].replace("T", " "),
        # Titles are attacker-influenced text: one line, control characters and markup inert.
        show(_one_line(inc.title, max(30, console.width - 58))),
    ]


def _print_summary(report: HuntReport, summary: dict[str, Any], out: Path) -> None:
    console.print(
        f"read {summary['records_read']:,} records from {report.files_read} files: "
        f"{summary['events_stored']:,} events stored, "
        f"{summary['records_quarantined']:,} quarantined; "
        f"{summary['findings']:,} findings in {summary['incidents']:,} incidents "
        f"({summary['seconds']:.1f} s)",
        highlight=False,
    )
    if report.incidents:
        table = Table(title="Top incidents", show_lines=False)
        for col in ("#", "risk", "findings", "first seen (UTC)"):
            table.add_column(col, no_wrap=True)
        table.add_column("incident")
        for rank, inc in enumerate(report.incidents[:10], start=1):
            table.add_row(*_incident_row(rank, inc))
        console.print(table)
    if report.detector_errors:
        for name, why in report.detector_errors.items():
            err_console.print(
                f"[red]detector {show(name)} failed:[/] {show(why)}",
                highlight=False,
                soft_wrap=True,
            )
    console.print(
        f"results in {show(out)}/ "
        "(findings.jsonl, incidents.jsonl, quarantine.jsonl, summary.json)",
        highlight=False,
    )
