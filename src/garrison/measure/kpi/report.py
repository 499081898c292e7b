"""The KPI table an analyst reads in the terminal (rich), from the ``compute_kpis`` dict."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from garrison.core.text import visible


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _seconds(block: dict[str, Any]) -> str:
    if not block or not block.get("n"):
        return "-"
    return f"{_fmt(block['median'])} s median, {_fmt(block['mean'])} s mean (n={block['n']})"


def overview(kpis: dict[str, Any]) -> Table:
    vol = kpis["volume"]
    table = Table(title="Alert pipeline KPIs", show_header=False)
    table.add_column("kpi")
    table.add_column("value")
    size = vol["incident_size"]
    rows = [
        ("raw findings (repeats included)", vol["raw_findings"]),
        ("findings (after folding repeats)", vol["findings"]),
        ("suppressed findings", vol["suppressed_findings"]),
        ("incidents", vol["incidents"]),
        ("  of which High/Critical", vol["high_critical_incidents"]),
        ("reduction: raw findings per incident", vol["reduction_ratio_raw"]),
        ("reduction: findings per incident", vol["reduction_ratio"]),
        (
            "incident size (findings): median / p90 / max",
            f"{_fmt(size['median'])} / {_fmt(size['p90'])} / {_fmt(size['max'])}",
        ),
        ("MTTA (created -> acknowledged)", _seconds(kpis["response"]["mtta_s"])),
        ("MTTR (created -> resolved)", _seconds(kpis["response"]["mttr_s"])),
    ]
    det = kpis.get("detection")
    if det:
        ent = det["entities"]
        rows += [
            ("attack stages detected", f"{det['stages_detected']} / {det['stages_total']}"),
            ("MTTD (stage start -> first detected event)", _seconds(det["mttd_s"])),
            (
                "attack start -> first High/Critical incident",
                _fmt(det["attack_start_to_incident_s"])
                + (" s" if det["attack_start_to_incident_s"] is not None else ""),
            ),
            (
                "labelled entities in a High/Critical incident",
                f"{ent['in_high_critical']} / {ent['total']}",
            ),
        ]
    for name, value in rows:
        table.add_row(name, _fmt(value) if not isinstance(value, str) else value)
    return table


def detectors(kpis: dict[str, Any]) -> Table:
    table = Table(title="Per detector")
    for col in (
        "detector",
        "findings",
        "reviewed",
        "precision",
        "FP rate",
        "label prec.",
        "record recall",
        "AUC conf.",
        "AUC risk",
    ):
        table.add_column(col)
    for name, row in kpis["detectors"].items():
        lab = row.get("labels") or {}
        table.add_row(
            Text(visible(name)),
            _fmt(row["findings"]),
            _fmt(row["reviewed"]),
            _fmt(row["precision"]),
            _fmt(row["fp_rate"]),
            _fmt(lab.get("precision")),
            _fmt(lab.get("record_recall")),
            _fmt(lab.get("roc_auc_confidence")),
            _fmt(lab.get("roc_auc_risk")),
        )
    return table


def rules(kpis: dict[str, Any], limit: int = 15) -> Table:
    table = Table(title=f"Rules with most false positives (top {limit})")
    for col in ("rule", "findings", "TP", "BTP", "FP", "FP rate", "label FP"):
        table.add_column(col)
    for row in kpis["rules"][:limit]:
        lab = row.get("labels") or {}
        table.add_row(
            # rule titles come from rule files: shown as plain text, never markup or controls
            Text(visible(row["analytic_name"] or row["analytic_uid"], 60)),
            _fmt(row["findings"]),
            _fmt(row["tp"]),
            _fmt(row["btp"]),
            _fmt(row["fp"]),
            _fmt(row["fp_rate"]),
            _fmt(lab.get("fp")),
        )
    return table


def criticality(kpis: dict[str, Any]) -> Table:
    table = Table(title="By asset criticality")
    for col in (
        "criticality",
        "findings",
        "incidents",
        "High/Crit",
        "FP rate",
        "label prec.",
        "MTTA",
        "MTTR",
    ):
        table.add_column(col)
    resp = kpis["response"]["by_criticality"]
    for crit, row in kpis["by_criticality"].items():
        lab = row.get("labels") or {}
        times = resp.get(crit, {})
        table.add_row(
            Text(visible(crit)),
            _fmt(row["findings"]),
            _fmt(row["incidents"]),
            _fmt(row["high_critical_incidents"]),
            _fmt(row["fp_rate"]),
            _fmt(lab.get("precision")),
            _fmt((times.get("mtta_s") or {}).get("median")),
            _fmt((times.get("mttr_s") or {}).get("median")),
        )
    return table


def render_tables(kpis: dict[str, Any]) -> Group:
    return Group(overview(kpis), detectors(kpis), rules(kpis), criticality(kpis))
