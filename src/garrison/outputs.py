"""Write a ``HuntReport`` into the contract files (docs/contracts.md, ``garrison hunt``).

``findings.jsonl`` (OCSF 2004), ``incidents.jsonl`` (OCSF 2005), ``quarantine.jsonl`` and
``summary.json``. Each file is written under a temporary name and renamed, so a reader never
sees half a file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from garrison.pipeline import HuntReport


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str))
            fh.write("\n")
    tmp.replace(path)


def summary_of(report: HuntReport) -> dict[str, Any]:
    total = report.total()
    rules_loaded = sum(int(s.get("rules_loaded", 0)) for s in report.detector_stats.values())
    return {
        "records_read": total.records_read,
        "events_stored": total.events_stored,
        "records_quarantined": total.records_quarantined,
        "findings": len(report.findings),
        "incidents": len(report.incidents),
        "rules_loaded": rules_loaded,
        "rules_failed": len(report.rules_failed),
        "seconds": report.seconds,
        "events_new": total.events_new,
        "files_read": report.files_read,
        "files_failed": [{"path": p.display, "reason": p.reason} for p in report.files_failed],
        "per_source": {name: asdict(stats) for name, stats in sorted(report.per_source.items())},
        "detectors": report.detector_stats,
        "triage": report.correlation,
        "detector_errors": report.detector_errors,
        "rules_failed_detail": report.rules_failed,
    }


def write_outputs(report: HuntReport, out_dir: Path) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    ordered = sorted(report.findings, key=lambda f: (-f.risk_score, f.time))
    _write_jsonl(out_dir / "findings.jsonl", (f.to_ocsf() for f in ordered))
    _write_jsonl(out_dir / "incidents.jsonl", (i.to_ocsf() for i in report.incidents))
    _write_jsonl(out_dir / "quarantine.jsonl", (q.to_json() for q in report.quarantine))
    summary = summary_of(report)
    tmp = out_dir / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(out_dir / "summary.json")
    return summary
