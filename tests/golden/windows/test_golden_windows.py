"""Golden files for the Windows normalizer: tests/golden/windows/*.in.json -> *.expected.json.

Each input holds one hand-written record and its shape: ``evtx`` (evtx JSON, through the
``evtx`` normalizer), ``flat`` (``normalize_windows_dict``) or ``mordor`` (the ``mordor``
normalizer, with the RawRecord ``meta`` given in the file). The expected file is the
Normalized result (class, time, OCSF object, fields) or the RecordError reason.

Nothing is regenerated silently: with ``GARRISON_REGEN_GOLDEN=1`` the expected files are
rewritten AND the test fails, so a regeneration always shows up and gets reviewed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from garrison.core.errors import RecordError
from garrison.core.events import RawRecord
from garrison.normalize.mordor import normalize_mordor
from garrison.normalize.windows import normalize_evtx, normalize_windows_dict

HERE = Path(__file__).parent
CASES = sorted(HERE.glob("*.in.json"))
CLASSES = {0, 1001, 1007, 3002, 4001, 4003}


def run_case(spec: dict[str, Any]) -> dict[str, Any]:
    record = spec["record"]
    text = json.dumps(record)
    try:
        if spec["shape"] == "evtx":
            norm = normalize_evtx(RawRecord(1, record, text))
        elif spec["shape"] == "mordor":
            norm = normalize_mordor(RawRecord(1, record, text, dict(spec.get("meta", {}))))
        else:
            norm = normalize_windows_dict(record)
    except RecordError as exc:
        return {"rejected": str(exc)}
    result = {
        "class_uid": norm.class_uid,
        "time": norm.time,
        "ocsf": norm.ocsf,
        "fields": norm.fields,
    }
    out: dict[str, Any] = json.loads(json.dumps(result, ensure_ascii=False))
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name.removesuffix(".in.json"))
def test_golden(case: Path) -> None:
    spec = json.loads(case.read_text(encoding="utf-8"))
    actual = run_case(spec)
    expected_path = case.with_name(case.name.replace(".in.json", ".expected.json"))
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
    assert actual == json.loads(expected_path.read_text(encoding="utf-8"))


def test_every_ocsf_mapping_has_a_golden_case() -> None:
    seen = {run_case(json.loads(c.read_text(encoding="utf-8"))).get("class_uid") for c in CASES}
    assert seen >= CLASSES
    shapes = {json.loads(c.read_text(encoding="utf-8"))["shape"] for c in CASES}
    assert shapes == {"evtx", "flat", "mordor"}
