"""The sigma detector through the real pipeline: docs/contracts.md for findings/summary."""

from __future__ import annotations

import json
from pathlib import Path

from garrison.core.config import GarrisonConfig, HuntConfig
from garrison.detect import DETECTORS, DetectorContext
from garrison.outputs import write_outputs
from garrison.pipeline import HuntService
from garrison.store import MemoryEventStore, StateDB

RULE = """
title: Whoami Execution
id: e28a5a99-da44-436d-b7a0-2afc20a5f413
status: test
level: medium
tags:
    - attack.discovery
    - attack.t1033
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\\whoami.exe'
    condition: selection
"""
BROKEN = "title: Broken\nlogsource: {product: windows}\ndetection:\n  sel: {a: b}\n"


def _rules(tmp_path: Path) -> Path:
    root = tmp_path / "rules"
    root.mkdir()
    (root / "whoami.yml").write_text(RULE)
    (root / "broken.yml").write_text(BROKEN)
    return root


def _events(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    lines = []
    for i, image in enumerate(
        [
            "C:\\Windows\\System32\\whoami.exe",
            "C:\\x\\calc.exe",
            "C:\\Windows\\System32\\WHOAMI.EXE",
        ]
    ):
        lines.append(
            json.dumps(
                {
                    "EventID": 1,
                    "Channel": "Microsoft-Windows-Sysmon/Operational",
                    "Computer": "WS1",
                    "Image": image,
                    "TimeCreated": f"2024-01-01T00:00:0{i}Z",
                }
            )
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def test_factory_needs_rules(tmp_path: Path) -> None:
    ctx = DetectorContext(home=tmp_path, state=StateDB.memory(), store=MemoryEventStore())
    assert DETECTORS.get("sigma")(ctx) is None


def test_factory_reports_failures_in_load_errors(tmp_path: Path) -> None:
    ctx = DetectorContext(
        home=tmp_path,
        state=StateDB.memory(),
        store=MemoryEventStore(),
        rules_dirs=[_rules(tmp_path)],
    )
    det = DETECTORS.get("sigma")(ctx)
    assert det is not None
    assert list(ctx.load_errors) == ["rules/broken.yml (Broken)"]
    stats = det.stats()
    assert stats["rules_loaded"] == 1 and stats["rules_failed"] == 1


def test_hunt_writes_contract_findings(tmp_path: Path, home: Path) -> None:
    cfg = GarrisonConfig(home=home, hunt=HuntConfig(batch_size=2))
    service = HuntService(cfg, MemoryEventStore(), StateDB.memory(), rules_dirs=[_rules(tmp_path)])
    events = _events(tmp_path)
    report = service.run([str(events)])
    summary = write_outputs(report, tmp_path / "out")
    assert summary["rules_loaded"] >= 1 and summary["rules_failed"] == 1
    assert "rules/broken.yml (Broken)" in summary["rules_failed_detail"]
    rows = [
        json.loads(line) for line in (tmp_path / "out" / "findings.jsonl").read_text().splitlines()
    ]
    sigma_rows = [
        r
        for r in rows
        if r["finding_info"]["analytic"]["uid"] == "e28a5a99-da44-436d-b7a0-2afc20a5f413"
    ]
    assert len(sigma_rows) == 1  # two matches on one host and file fold into one finding
    row = sigma_rows[0]
    assert row["count"] == 2
    assert row["finding_info"]["title"] == row["finding_info"]["analytic"]["name"]
    assert row["severity_id"] == 3
    assert 0 <= row["confidence_score"] <= 100 and 0 <= row["risk_score"] <= 100
    assert {"uid": "T1033", "name": "System Owner/User Discovery"}.items() <= (
        row["finding_info"]["attacks"][0]["technique"].items()
    )
    assert row["finding_info"]["attacks"][0]["tactic"]["name"] == "Discovery"
    assert [e["data"]["record_id"] for e in row["evidences"]] == [1, 3]
    assert {e["data"]["source_path"] for e in row["evidences"]} == {str(events)}
    assert row["time"] == 1704067200000
    assert summary["detectors"]["sigma"]["matches"] == 2


def test_hostile_events_never_raise(tmp_path: Path) -> None:
    from garrison.core.events import Event, Provenance
    from garrison.detect.sigma import detector_from_yaml

    keyword = (
        "title: K\nlogsource: {product: windows}\ndetection:\n"
        "  k: ['mimikatz']\n  c:\n    DestinationIp|cidr: '10.0.0.0/8'\n"
        "  condition: k or c\n"
    )
    det = detector_from_yaml(RULE, keyword)
    prov = Provenance("hostile.log", "evtx", 1, "fp", 0)
    odd: list[dict[str, object]] = [
        {},
        {"Channel": None},
        {"Channel": ["a"], "EventID": {"x": 1}},
        {"Channel": "Security", "EventID": float("nan"), "Image": b"bytes"},
        {"Channel": "x", "EventID": 1, "Image": ["a", None, 3], "DestinationIp": "::ffff:10.0.0.1"},
        {"Channel": "x" * 10_000, "CommandLine": "\u202e" * 1000 + "mimikatz"},
    ]
    events = [Event(f"h{i}", 0, 0, {"device": "oops"}, f, "", prov) for i, f in enumerate(odd)]
    findings = det.observe(events) + det.finish()
    assert {f.title for f in findings} <= {"Whoami Execution", "K"}
    assert det.stats()["event_errors"] == 0
