"""KPI plots (PNG and SVG) with matplotlib's Agg backend: no display, no network.

- ``kpi_volume``: raw findings, findings, incidents, High/Critical incidents (log scale);
- ``kpi_detectors``: precision and record recall per detector (labels), or the analysts'
  precision when only dispositions exist;
- ``kpi_roc``: ROC curves of the detectors' confidence over their findings (labels);
- ``kpi_criticality``: findings, incidents and precision per asset criticality;
- ``kpi_mttd``: time to detect per attack stage (labels).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from garrison.measure.kpi.data import KpiData
from garrison.measure.kpi.labels import LabelSet
from garrison.measure.kpi.metrics import label_truth


def _save(fig: Figure, out: Path, name: str, formats: tuple[str, ...]) -> list[Path]:
    paths = []
    fig.tight_layout()
    for fmt in formats:
        path = out / f"{name}.{fmt}"
        fig.savefig(path, format=fmt, dpi=110)
        paths.append(path)
    plt.close(fig)
    return paths


def _volume(kpis: dict[str, Any]) -> Figure:
    vol = kpis["volume"]
    names = ["raw findings", "findings", "incidents", "High/Critical"]
    values = [
        vol["raw_findings"],
        vol["findings"],
        vol["incidents"],
        vol["high_critical_incidents"],
    ]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    bars = ax.bar(names, [max(v, 0.5) for v in values], color=["#999", "#6a8", "#d84", "#b22"])
    ax.set_yscale("log")
    ax.set_ylim(0.4, max([*values, 1]) * 4)
    ax.bar_label(bars, labels=[str(v) for v in values])
    ratio = vol["reduction_ratio_raw"]
    ax.set_title(f"Alert reduction: {ratio}x raw findings per incident" if ratio else "Volume")
    return fig


def _detectors(kpis: dict[str, Any]) -> Figure | None:
    rows = kpis["detectors"]
    if not rows:
        return None
    names = list(rows)
    with_labels = any("labels" in r for r in rows.values())
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(names)), 3.5))
    xs = range(len(names))
    if with_labels:
        prec = [rows[n]["labels"]["precision"] or 0 for n in names]
        rec = [rows[n]["labels"]["record_recall"] or 0 for n in names]
        ax.bar([x - 0.2 for x in xs], prec, 0.4, label="precision (labels)")
        ax.bar([x + 0.2 for x in xs], rec, 0.4, label="record recall (labels)")
    else:
        prec = [rows[n]["precision"] or 0 for n in names]
        ax.bar(list(xs), prec, 0.5, label="precision (analyst verdicts)")
    ax.set_xticks(list(xs), names, rotation=20, ha="right")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    ax.set_title("Detector quality")
    return fig


def _roc(data: KpiData, labels: LabelSet | None) -> Figure | None:
    if labels is None:
        return None
    truth = label_truth(data.findings, labels)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    drawn = 0
    detectors = sorted({f.detector for f in data.findings})
    for name in detectors:
        rows = [f for f in data.findings if f.detector == name]
        y = [1 if truth.get(f.uid) else 0 for f in rows]
        if len(set(y)) < 2:
            continue
        fpr, tpr, _ = roc_curve(y, [f.confidence for f in rows])
        ax.plot(fpr, tpr, label=name)
        drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC of detector confidence (labels)")
    ax.legend(fontsize=8)
    return fig


def _criticality(kpis: dict[str, Any]) -> Figure | None:
    rows = kpis["by_criticality"]
    if not rows:
        return None
    names = list(rows)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], [rows[n]["findings"] for n in names], 0.4, label="findings")
    ax.bar([x + 0.2 for x in xs], [rows[n]["incidents"] for n in names], 0.4, label="incidents")
    ax.set_xticks(list(xs), names)
    ax.set_ylabel("count")
    ax.legend(fontsize=8)
    ax.set_title("By asset criticality")
    return fig


def _mttd(kpis: dict[str, Any]) -> Figure | None:
    det = kpis.get("detection")
    if not det:
        return None
    stages = det["stages"]
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(stages) + 1.2))
    names = [s["stage"] for s in stages]
    values = [s.get("ttd_s", 0) or 0 for s in stages]
    colors = ["#6a8" if s["detected"] else "#bbb" for s in stages]
    ax.barh(names, [v / 60 for v in values], color=colors)
    for i, s in enumerate(stages):
        text = f"{s['ttd_s']:.0f} s" if s.get("ttd_s") is not None else "not detected"
        ax.text(0, i, " " + text, va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("minutes from stage start to first detected event")
    ax.set_title("Time to detect per attack stage")
    return fig


def render(
    kpis: dict[str, Any],
    data: KpiData,
    labels: LabelSet | None,
    out: Path,
    formats: tuple[str, ...] = ("png", "svg"),
) -> list[Path]:
    """Write every plot that has data; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    makers: dict[str, Callable[[], Figure | None]] = {
        "kpi_volume": lambda: _volume(kpis),
        "kpi_detectors": lambda: _detectors(kpis),
        "kpi_roc": lambda: _roc(data, labels),
        "kpi_criticality": lambda: _criticality(kpis),
        "kpi_mttd": lambda: _mttd(kpis),
    }
    written: list[Path] = []
    for name, make in makers.items():
        fig = make()
        if fig is not None:
            written += _save(fig, out, name, formats)
    return written
