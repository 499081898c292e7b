"""Golden files for the line formats: tests/golden/<fmt>/*.in -> *.expected.json.

Each input is sniffed by content (the sniffer must name the folder's format), read by the
source and normalized; the result (every record, quarantine entry and normalizer rejection,
in order) must equal the expected file exactly. Inputs get a fixed mtime (2024-03-01 UTC)
because year-less syslog lines take their year from it.

Nothing is regenerated silently: with ``GARRISON_REGEN_GOLDEN=1`` the expected files are
rewritten AND the test fails, so a regeneration always shows up and gets reviewed.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import garrison.normalize.builtin  # noqa: F401
from garrison.core.errors import RecordError
from garrison.core.events import Quarantined
from garrison.ingest import detect_format
from garrison.normalize.base import NORMALIZERS

HERE = Path(__file__).parent
FORMATS = ("zeek", "syslog", "jsonl", "csv")
CASES = sorted(p for fmt in FORMATS for p in (HERE / fmt).glob("*.in"))
MTIME = datetime(2024, 3, 1, tzinfo=UTC).timestamp()


def run_file(path: Path, expected_format: str) -> list[dict[str, Any]]:
    cls = detect_format(path)
    assert cls is not None, f"{path.name}: no format recognised"
    assert cls.format == expected_format, f"{path.name}: sniffed as {cls.format}"
    out: list[dict[str, Any]] = []
    for item in cls().read(path):
        if isinstance(item, Quarantined):
            out.append({"position": item.position, "quarantined": item.reason})
            continue
        entry: dict[str, Any] = {"position": item.position}
        if item.meta:
            entry["meta"] = item.meta
        try:
            norm = NORMALIZERS.get(cls.format)(item)
        except RecordError as exc:
            entry["rejected"] = str(exc)
        else:
            entry.update(
                {
                    "class_uid": norm.class_uid,
                    "time": norm.time,
                    "ocsf": norm.ocsf,
                    "fields": norm.fields,
                }
            )
        out.append(entry)
    # through JSON, as the store will see it (tuples -> lists, keys -> str)
    result: list[dict[str, Any]] = json.loads(json.dumps(out, ensure_ascii=False))
    return result


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden(case: Path, tmp_path: Path) -> None:
    work = tmp_path / case.name
    shutil.copyfile(case, work)
    os.utime(work, (MTIME, MTIME))
    actual = run_file(work, case.parent.name)
    expected_path = case.with_suffix(".expected.json")
    if os.environ.get("GARRISON_REGEN_GOLDEN") == "1":
        expected_path.write_text(
            json.dumps(actual, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        pytest.fail(
            f"regenerated {expected_path.name}: review the diff, then rerun without "
            "GARRISON_REGEN_GOLDEN"
        )
    assert expected_path.exists(), f"missing {expected_path.name} (GARRISON_REGEN_GOLDEN=1)"
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert actual == expected


def test_every_format_has_golden_cases() -> None:
    for fmt in FORMATS:
        assert list((HERE / fmt).glob("*.in")), f"no golden input for {fmt}"
