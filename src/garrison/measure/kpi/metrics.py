"""The KPIs themselves, as plain numbers in a JSON-ready dict.

Definitions (the same in the table, ``kpi.json`` and the plots):

- *reduction ratio*: raw findings (detector findings with their folded repeats) per
  incident; also findings (after folding) per incident; plus incident sizes, so a good
  ratio cannot hide one giant incident;
- *MTTD* (with labels): per attack stage, from its first malicious record to the first
  event of a finding that hits one of its records (never before the stage began); in a
  replay of logs this is how far into the stage detection happened. Also: attack start to
  the opening of the first incident holding a true-positive finding;
- *MTTA* / *MTTR* (from the state): wall-clock seconds from an incident's creation to its
  first analyst action (acknowledgement or verdict) / to its resolution;
- *per rule and detector*: findings, verdicts (analyst dispositions; with labels, also
  label-derived TP/FP), precision, FP rate, record recall, ROC-AUC of the detector's
  confidence and of the triage risk over its findings (when both classes exist);
- all of it *segmented by asset criticality* of the finding or incident.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sklearn.metrics import roc_auc_score

from garrison.measure.kpi.data import FindingView, IncidentView, KpiData
from garrison.measure.kpi.labels import LabelSet

HIGH_BANDS = ("High", "Critical")
CRITICALITIES = ("critical", "high", "medium", "low", "unknown")


def summary(values: Iterable[float]) -> dict[str, Any]:
    vals = sorted(values)
    if not vals:
        return {"n": 0, "mean": None, "median": None, "p90": None, "max": None}
    return {
        "n": len(vals),
        "mean": round(statistics.fmean(vals), 2),
        "median": round(statistics.median(vals), 2),
        "p90": round(vals[min(len(vals) - 1, int(0.9 * len(vals)))], 2),
        "max": round(vals[-1], 2),
    }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def volume(data: KpiData) -> dict[str, Any]:
    raw = sum(f.count for f in data.findings)
    active = [f for f in data.findings if f.status != "suppressed"]
    bands: dict[str, int] = defaultdict(int)
    for inc in data.incidents:
        bands[inc.band] += 1
    high = sum(bands[b] for b in HIGH_BANDS)
    return {
        "raw_findings": raw,
        "findings": len(data.findings),
        "active_findings": len(active),
        "suppressed_findings": len(data.findings) - len(active),
        "findings_in_incidents": sum(1 for f in data.findings if f.incident),
        "incidents": len(data.incidents),
        "high_critical_incidents": high,
        "reduction_ratio_raw": _ratio(raw, len(data.incidents)),
        "reduction_ratio": _ratio(len(data.findings), len(data.incidents)),
        "reduction_ratio_high_critical": _ratio(raw, high),
        "incident_size": summary(len(i.findings) for i in data.incidents),
        "bands": dict(bands),
    }


def response(incidents: Sequence[IncidentView]) -> dict[str, Any]:
    def seconds(pick: str, rows: Sequence[IncidentView]) -> dict[str, Any]:
        out = []
        for i in rows:
            end = getattr(i, pick)
            if i.created_at is not None and end is not None:
                out.append(max(0, end - i.created_at) / 1000)
        return summary(out)

    by_crit = {
        c: {"mtta_s": seconds("acknowledged_at", rows), "mttr_s": seconds("resolved_at", rows)}
        for c, rows in _group(incidents, lambda i: i.criticality).items()
    }
    return {
        "mtta_s": seconds("acknowledged_at", incidents),
        "mttr_s": seconds("resolved_at", incidents),
        "by_criticality": by_crit,
    }


def _group(items: Iterable[Any], key: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return dict(out)


def label_truth(findings: Sequence[FindingView], labels: LabelSet) -> dict[str, str | None]:
    """finding uid -> stage it hits, or None (a false positive by the labels)."""
    return {f.uid: labels.stage_of(f.evidences) for f in findings}


def detection(data: KpiData, labels: LabelSet, truth: dict[str, str | None]) -> dict[str, Any]:
    by_stage: dict[str, list[FindingView]] = defaultdict(list)
    for f in data.findings:
        stage = truth.get(f.uid)
        if stage:
            by_stage[stage].append(f)
    stages = []
    delays: list[float] = []
    for name in labels.stage_records:
        start = labels.stage_start.get(name)
        hits = by_stage.get(name, [])
        entry: dict[str, Any] = {
            "stage": name,
            "records": labels.stage_records[name],
            "detected": bool(hits),
            "findings": len(hits),
        }
        if hits and start is not None:
            detected = min(max(f.time, start) for f in hits)
            entry["ttd_s"] = round((detected - start) / 1000, 3)
            delays.append(entry["ttd_s"])
        stages.append(entry)
    starts = [s for s in labels.stage_start.values()]
    attack_start = min(starts) if starts else None
    tp_incidents = [
        i for i in data.incidents if i.band in HIGH_BANDS and any(truth.get(u) for u in i.findings)
    ]
    incident_ttd = None
    if attack_start is not None and tp_incidents:
        opened = min(max(i.opened_at or i.first_time, attack_start) for i in tp_incidents)
        incident_ttd = round((opened - attack_start) / 1000, 3)
    return {
        "stages": stages,
        "stages_detected": sum(1 for s in stages if s["detected"]),
        "stages_total": len(stages),
        "mttd_s": summary(delays),
        "attack_start_to_incident_s": incident_ttd,
        "entities": entity_recall(data.incidents, labels),
    }


def entity_recall(incidents: Sequence[IncidentView], labels: LabelSet) -> dict[str, Any]:
    rank = {"Critical": 4, "High": 3, "Moderate": 2, "Low": 1, "Unknown": 0}
    best: dict[str, IncidentView] = {}
    for inc in incidents:
        for key in inc.entities:
            if key in labels.entities and (
                key not in best or rank.get(inc.band, 0) > rank.get(best[key].band, 0)
            ):
                best[key] = inc
    rows = [
        {
            "entity": key,
            "stages": stages,
            "incident": best[key].uid if key in best else None,
            "band": best[key].band if key in best else "",
            "risk_score": best[key].risk_score if key in best else None,
        }
        for key, stages in sorted(labels.entities.items())
    ]
    high = sum(1 for r in rows if r["band"] in HIGH_BANDS)
    return {
        "total": len(rows),
        "in_incident": sum(1 for r in rows if r["incident"]),
        "in_high_critical": high,
        "recall_high_critical": _ratio(high, len(rows)),
        "entities": rows,
    }


def _auc(scores: list[float], truth: list[int]) -> float | None:
    if len(set(truth)) < 2:
        return None
    return round(float(roc_auc_score(truth, scores)), 4)


def _quality(
    findings: Sequence[FindingView],
    verdicts: dict[str, str],
    truth: dict[str, str | None] | None,
    labels: LabelSet | None,
) -> dict[str, Any]:
    tp = sum(1 for f in findings if verdicts.get(f.uid) == "tp")
    btp = sum(1 for f in findings if verdicts.get(f.uid) == "btp")
    fp = sum(1 for f in findings if verdicts.get(f.uid) == "fp")
    reviewed = tp + btp + fp
    out: dict[str, Any] = {
        "findings": len(findings),
        "raw_findings": sum(f.count for f in findings),
        "reviewed": reviewed,
        "tp": tp,
        "btp": btp,
        "fp": fp,
        "precision": _ratio(tp, reviewed),
        "fp_rate": _ratio(fp, reviewed),
    }
    if truth is not None and labels is not None:
        y = [1 if truth.get(f.uid) else 0 for f in findings]
        records: set[tuple[str, int]] = set()
        for f in findings:
            if truth.get(f.uid):
                records.update(f.evidences)
        out["labels"] = {
            "tp": sum(y),
            "fp": len(y) - sum(y),
            "precision": _ratio(sum(y), len(y)),
            "fp_rate": _ratio(len(y) - sum(y), len(y)),
            "stages_hit": sorted({s for f in findings if (s := truth.get(f.uid))}),
            "record_recall": _ratio(len(records), labels.total_records),
            "roc_auc_confidence": _auc([float(f.confidence) for f in findings], y),
            "roc_auc_risk": _auc([float(f.risk_score) for f in findings], y),
        }
    return out


def compute_kpis(data: KpiData, labels: LabelSet | None = None) -> dict[str, Any]:
    truth = label_truth(data.findings, labels) if labels is not None else None
    out: dict[str, Any] = {"source": data.source, "volume": volume(data)}
    out["response"] = response(data.incidents)
    if labels is not None and truth is not None:
        out["detection"] = detection(data, labels, truth)
    out["detectors"] = {
        name: _quality(rows, data.verdicts, truth, labels)
        for name, rows in sorted(_group(data.findings, lambda f: f.detector).items())
    }
    rules = []
    for uid, rows in _group(data.findings, lambda f: f.analytic_uid).items():
        entry = _quality(rows, data.verdicts, truth, labels)
        rules.append({"analytic_uid": uid, "analytic_name": rows[0].analytic_name, **entry})
    rules.sort(key=lambda r: (-(r.get("labels", {}).get("fp", 0) + r["fp"]), -r["findings"]))
    out["rules"] = rules
    crit_incidents = _group(data.incidents, lambda i: i.criticality)
    out["by_criticality"] = {
        crit: {
            **_quality(rows, data.verdicts, truth, labels),
            "incidents": len(crit_incidents.get(crit, [])),
            "high_critical_incidents": sum(
                1 for i in crit_incidents.get(crit, []) if i.band in HIGH_BANDS
            ),
        }
        for crit, rows in sorted(
            _group(data.findings, lambda f: f.criticality).items(),
            key=lambda kv: CRITICALITIES.index(kv[0]) if kv[0] in CRITICALITIES else 9,
        )
    }
    if labels is not None and truth is not None:
        for crit, rows in _group(data.findings, lambda f: f.criticality).items():
            delays = [
                max(0, f.time - labels.stage_start[s]) / 1000
                for f in rows
                if (s := truth.get(f.uid)) and s in labels.stage_start
            ]
            out["by_criticality"][crit]["detection_delay_s"] = summary(delays)
    return out
