"""Analyst commands: ``garrison findings|incidents|allowlist ...``.

Thin: each command opens the ``Workbench`` on the state under ``--home``, acting as the
operating-system account, calls it and prints the result. Finding and incident ids may be
given as any unambiguous prefix. Every stored text (titles, entity values, notes) is
attacker-influenced: it reaches the terminal through ``show`` only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from garrison.core.timeutil import iso
from garrison.correlate.workbench import Workbench
from garrison.govern.access import cli_principal
from garrison.interfaces.cli.common import (
    ConfigOption,
    HomeOption,
    config_for,
    console,
    print_json,
    show,
    show_lines,
)

findings_app = typer.Typer(
    name="findings",
    no_args_is_help=True,
    add_completion=False,
    help="Stored findings: list, verdicts, tuning suggestions.",
)
incidents_app = typer.Typer(
    name="incidents",
    no_args_is_help=True,
    add_completion=False,
    help="Stored incidents: list, show, workflow, merge, split, similar.",
)
allowlist_app = typer.Typer(
    name="allowlist",
    no_args_is_help=True,
    add_completion=False,
    help="Allowlist and exceptions, applied to stored findings too.",
)

Verdict = Annotated[str, typer.Argument(help="tp (true positive), btp (benign), fp (false).")]
Note = Annotated[str, typer.Option("--note", help="Why (kept with the verdict).")]
Analyst = Annotated[str, typer.Option("--analyst", envvar="USER", help="Who decided.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _bench(home: Path | None, config: Path | None) -> Workbench:
    """The service every command calls, acting as the account that runs the CLI."""
    return Workbench.open(config_for(home, config), cli_principal)


# -- findings ---------------------------------------------------------------------------------
@findings_app.command("list")
def findings_list(
    status: Annotated[str, typer.Option(help="active, suppressed or all.")] = "active",
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 20,
    home: HomeOption = None,
    config: ConfigOption = None,
    as_json: AsJson = False,
) -> None:
    """Stored findings, highest risk first."""
    rows = _bench(home, config).list_findings(status=status, limit=limit)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"Findings ({show(status)})")
    for col in ("uid", "risk", "time (UTC)", "analytic", "count", "incident", "status"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            show(r["uid"], 12),
            str(r["risk_score"]),
            iso(int(r["time"]))[:19],
            show(r["title"], 50),
            str(r["count"]),
            show(r["incident_uid"] or "", 16),
            show(f"{r['status']} {r['status_reason']}", 40),
        )
    console.print(table)


@findings_app.command("disposition")
def findings_disposition(
    uid: Annotated[str, typer.Argument(help="Finding uid (or prefix).")],
    verdict: Verdict,
    note: Note = "",
    analyst: Analyst = "",
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Record an analyst verdict on a finding; it is re-scored and its incident rebuilt."""
    result = _bench(home, config).dispose_finding(uid, verdict, note, analyst)
    console.print(
        f"finding {show(result['finding'])}: {show(verdict)}, risk now {result['risk_score']}"
        + (f"; incident {show(result['incident'])} rebuilt" if result["incident"] else ""),
        highlight=False,
    )


@findings_app.command("tuning")
def findings_tuning(
    min_count: Annotated[int, typer.Option(help="Benign verdicts needed for a suggestion.")] = 3,
    home: HomeOption = None,
    config: ConfigOption = None,
    as_json: AsJson = False,
) -> None:
    """Per-rule precision from verdicts, and suggested exceptions (advice only)."""
    bench = _bench(home, config)
    stats = [s for s in bench.rule_stats() if s["reviewed"]]
    suggestions = bench.tuning(min_count)
    if as_json:
        print_json({"rules": stats, "suggestions": [s.to_json() for s in suggestions]})
        return
    table = Table(title="Rules with verdicts")
    for col in ("rule", "findings", "reviewed", "TP", "BTP", "FP", "precision"):
        table.add_column(col)
    for s in stats:
        prec = "-" if s["precision"] is None else f"{s['precision']:.2f}"
        table.add_row(
            show(s["analytic_name"] or s["analytic_uid"], 60),
            str(s["findings"]),
            str(s["reviewed"]),
            str(s["tp"]),
            str(s["btp"]),
            str(s["fp"]),
            prec,
        )
    console.print(table)
    if not suggestions:
        console.print("no tuning suggestions yet")
    for sug in suggestions:
        console.print(
            f"- {show(sug.text)}" + (f"\n    {show(sug.command)}" if sug.command else ""),
            highlight=False,
            soft_wrap=True,
        )


# -- incidents --------------------------------------------------------------------------------
@incidents_app.command("list")
def incidents_list(
    status: Annotated[str, typer.Option(help="new, acknowledged, resolved, open or all.")] = "open",
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 20,
    home: HomeOption = None,
    config: ConfigOption = None,
    as_json: AsJson = False,
) -> None:
    """Stored incidents, highest risk first."""
    rows = _bench(home, config).list_incidents(status=status, limit=limit)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"Incidents ({show(status)})")
    for col in ("uid", "risk", "findings", "first seen (UTC)", "status", "verdict", "title"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            show(r["uid"], 16),
            f"{r['risk_score']} {show(r['band'])}",
            str(r["findings"]),
            iso(int(r["first_time"]))[:19],
            show(r["status"]),
            show(r["verdict"]),
            show(r["title"], 70),
        )
    console.print(table)


@incidents_app.command("show")
def incidents_show(
    uid: Annotated[str, typer.Argument(help="Incident uid (or prefix).")],
    home: HomeOption = None,
    config: ConfigOption = None,
    as_json: AsJson = False,
) -> None:
    """The incident's story, score parts, top findings, enrichment and similar incidents."""
    inc = _bench(home, config).incident(uid)
    if as_json:
        print_json(inc.to_ocsf())
        return
    verdict = f", verdict {show(inc.verdict)}" if inc.verdict else ""
    console.print(
        f"[bold]{show(inc.title)}[/]\n{show(inc.uid)}  risk {inc.risk_score} ({show(inc.band)}), "
        f"status {show(inc.status)}{verdict}",
        highlight=False,
    )
    if inc.description:
        console.print(show_lines(inc.description), highlight=False)
    parts = "".join(
        f"{' - ' if v < 0 else ' + ' if i else ''}{abs(v):.0f} {show(k)}"
        for i, (k, v) in enumerate(inc.risk_parts.items())
    )
    console.print(f"score = {parts} = {inc.risk_score}", highlight=False, soft_wrap=True)
    factors = inc.explanation.get("factors") or {}
    if factors:
        console.print(
            "factors: " + ", ".join(f"{show(k)} {v:+.0f}" for k, v in factors.items()),
            highlight=False,
            soft_wrap=True,
        )
    table = Table(title="Kill chain")
    for col in ("stage", "first (UTC)", "techniques", "findings"):
        table.add_column(col)
    for st in inc.stages:
        table.add_row(
            show(st["tactic"]),
            iso(int(st["first_time"]))[:19],
            show(", ".join(st["techniques"][:3]), 60),
            str(len(st["findings"])),
        )
    console.print(table)
    crit = show(inc.enrichment.get("criticality", "unknown"))
    assets = ", ".join(
        f"{show(a.get('name'))} ({show(a.get('criticality'))})"
        for a in inc.enrichment.get("assets", [])[:5]
    )
    console.print(f"criticality {crit}" + (f"; assets {assets}" if assets else ""), highlight=False)
    for s in inc.similar:
        console.print(
            f"similar: {show(s['uid'])} ({s['similarity']:.2f}) {show(s['title'], 70)} "
            f"\\[{show(s.get('verdict') or s.get('status'))}]",
            highlight=False,
        )


@incidents_app.command("ack")
def incidents_ack(
    uid: Annotated[str, typer.Argument()],
    note: Note = "",
    analyst: Analyst = "",
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Acknowledge an incident (starts the MTTA clock's end)."""
    done = _bench(home, config).set_status(uid, "acknowledged", analyst, note)
    console.print(f"{show(done)}: acknowledged", highlight=False)


@incidents_app.command("resolve")
def incidents_resolve(
    uid: Annotated[str, typer.Argument()],
    verdict: Annotated[str, typer.Option("--verdict", help="tp, btp or fp.")] = "",
    note: Note = "",
    analyst: Analyst = "",
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Resolve an incident, optionally with a verdict."""
    bench = _bench(home, config)
    if verdict:
        done = bench.dispose_incident(uid, verdict, note, analyst, resolve=True)
    else:
        done = bench.set_status(uid, "resolved", analyst, note)
    resolved = f"{show(done)}: resolved" + (f" as {show(verdict)}" if verdict else "")
    console.print(resolved, highlight=False)


@incidents_app.command("disposition")
def incidents_disposition(
    uid: Annotated[str, typer.Argument()],
    verdict: Verdict,
    note: Note = "",
    analyst: Analyst = "",
    resolve: Annotated[bool, typer.Option("--resolve", help="Also resolve it.")] = False,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Record an analyst verdict on an incident (applies to its findings without their own)."""
    done = _bench(home, config).dispose_incident(uid, verdict, note, analyst, resolve)
    console.print(
        f"{show(done)}: {show(verdict)}" + (", resolved" if resolve else ""), highlight=False
    )


@incidents_app.command("merge")
def incidents_merge(
    target: Annotated[str, typer.Argument(help="The incident that stays.")],
    others: Annotated[list[str], typer.Argument(help="Incidents merged into it.")],
    analyst: Analyst = "",
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Merge incidents; the findings stay pinned to the result on later runs."""
    inc = _bench(home, config).merge(target, others, analyst)
    console.print(
        f"{show(inc.uid)}: {len(inc.finding_uids)} findings, risk {inc.risk_score} "
        f"({show(inc.band)})",
        highlight=False,
    )


@incidents_app.command("split")
def incidents_split(
    uid: Annotated[str, typer.Argument(help="The incident to split.")],
    findings: Annotated[list[str], typer.Argument(help="Findings that move to a new incident.")],
    analyst: Analyst = "",
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Move findings out of an incident into a new one; both are re-scored."""
    kept, new = _bench(home, config).split(uid, findings, analyst)
    for inc in (kept, new):
        console.print(
            f"{show(inc.uid)}: {len(inc.finding_uids)} findings, risk {inc.risk_score} "
            f"({show(inc.band)})",
            highlight=False,
        )


@incidents_app.command("similar")
def incidents_similar(
    uid: Annotated[str, typer.Argument()],
    k: Annotated[int, typer.Option("-k", help="How many.")] = 5,
    home: HomeOption = None,
    config: ConfigOption = None,
    as_json: AsJson = False,
) -> None:
    """Past incidents most like this one (techniques, tactics, detectors, entity kinds)."""
    rows = _bench(home, config).similar(uid, k)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no other stored incident")
    for r in rows:
        console.print(
            f"{r['similarity']:.3f}  {show(r['uid'])}  {r['risk_score']}  "
            f"\\[{show(r['verdict'] or r['status'])}]  {show(r['title'], 70)}",
            highlight=False,
        )


# -- allowlist --------------------------------------------------------------------------------
@allowlist_app.command("add")
def allowlist_add(
    kind: Annotated[str, typer.Argument(help="user, host, ip, domain, hash, process or any.")],
    value: Annotated[str, typer.Argument(help="Value, glob (*.example.com) or CIDR for ip.")],
    analytic: Annotated[
        str,
        typer.Option(
            "--analytic",
            help="Only for this analytic (glob): an exception rather than a global allowlist.",
        ),
    ] = "",
    reason: Annotated[str, typer.Option("--reason")] = "",
    analyst: Analyst = "",
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Add an entry; matching stored findings are suppressed and their incidents rebuilt."""
    result = _bench(home, config).allow(kind, value, analytic, reason, analyst)
    console.print(
        f"allowlist #{result['id']} added: {result['suppressed_findings']} stored "
        f"finding(s) suppressed, {result['incidents_updated']} incident(s) updated",
        highlight=False,
    )


@allowlist_app.command("list")
def allowlist_list(home: HomeOption = None, config: ConfigOption = None) -> None:
    """Stored entries (entries from garrison.toml apply too, at every hunt)."""
    entries = _bench(home, config).allow_entries()
    if not entries:
        console.print("no stored allowlist entries")
    for e in entries:
        console.print(
            f"#{e.id}  {show(e.rule.describe())}  (added {iso(e.created_at)[:19]})",
            highlight=False,
        )


@allowlist_app.command("remove")
def allowlist_remove(
    entry: Annotated[int, typer.Argument(help="Entry number.")],
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Remove an entry (findings it suppressed stay suppressed until re-detected)."""
    removed = _bench(home, config).unallow(entry)
    console.print(f"#{entry} removed" if removed else f"no entry #{entry}")
