"""Golden cases: rules + events -> exactly which rules match (cases/*.yml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from garrison.detect.sigma import detector_from_yaml

CASES = sorted((Path(__file__).parent / "cases").glob("*.yml"))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden_case(case: Path) -> None:
    spec: dict[str, Any] = yaml.safe_load(case.read_text(encoding="utf-8"))
    det = detector_from_yaml(*spec["rules"])
    assert not det.ruleset.errors, det.ruleset.errors
    assert det.ruleset.loaded == len(spec["rules"])
    for i, ev in enumerate(spec["events"]):
        found, _ = det.engine.match(ev["fields"], "evtx", 0)
        titles = sorted(det.engine.rules[m.rule].meta.title for m in found)
        assert titles == sorted(ev["match"]), f"{case.name} event {i}: {ev['fields']}"


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 4
