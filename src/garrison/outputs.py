"""Write a ``HuntReport`` into the contract files (docs/contracts.md, ``garrison hunt``).

``findings.jsonl`` (OCSF 2004), ``incidents.jsonl`` (OCSF 2005), ``quarantine.jsonl`` and
``summary.json``. All four are written under temporary names first and renamed only when
all are complete, so a reader never sees half a file nor a new file beside an old one; when
a write fails (a full disk) the temporary files are removed, the previous results stay as
they were, and the run ends with a ``StorageError``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import asdict
from pathlib import Path
from typing import Any

from garrison.core.errors import storage_error
from garrison.core.preflight import RESULT_FILES
from garrison.pipeline import HuntReport


def _tmp_of(path: Path) -> Path:
    return path.with_suffix(path.suffix + ".tmp")


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write ``rows`` into the temporary twin of ``path`` (renamed later)."""
    with _tmp_of(path).open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str))
            fh.write("\n")


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
    summary = summary_of(report)
    paths = [out_dir / name for name in RESULT_FILES]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        ordered = sorted(report.findings, key=lambda f: (-f.risk_score, f.time))
        _write_jsonl(paths[0], (f.to_ocsf() for f in ordered))
        _write_jsonl(paths[1], (i.to_ocsf() for i in report.incidents))
        _write_jsonl(paths[2], (q.to_json() for q in report.quarantine))
        text = json.dumps(summary, indent=2, ensure_ascii=False)
        _tmp_of(paths[3]).write_text(text, encoding="utf-8")
        for path in paths:
            _tmp_of(path).replace(path)
    except OSError as exc:
        for path in paths:
            with suppress(OSError):
                _tmp_of(path).unlink(missing_ok=True)
        raise storage_error(exc, f"the results in {out_dir}") from exc
    return summary
