"""Scoring hunt output against the labels, on hand-made findings and incidents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from demo_support import SmallDemo

from garrison.core.errors import InputError
from garrison.demo.evaluate import evaluate
from garrison.demo.labels import load_labels

WIN = "logs/windows/events.jsonl"
CONN = "logs/zeek/conn.log"


def _finding(name: str, time: int, evidences: list[tuple[str, Any]]) -> dict[str, Any]:
    return {
        "class_uid": 2004,
        "time": time,
        "finding_info": {
            "uid": f"uid-{name}",
            "title": name,
            "analytic": {"uid": name, "name": name},
        },
        "evidences": [{"data": {"source_path": p, "record_id": r}} for p, r in evidences],
    }


def _incident(
    uid: str, members: list[str], resources: list[tuple[str, str]], risk: int, band: str
) -> dict[str, Any]:
    return {
        "class_uid": 2005,
        "risk_score": risk,
        "risk_level": band,
        "finding_info": {"uid": uid, "title": uid},
        "finding_info_list": [{"uid": m} for m in members],
        "resources": [{"type": k, "value": v} for k, v in resources],
    }


def _external(ips: list[str]) -> str:
    return next(ip for ip in ips if not ip.startswith("10."))


def _write(path: Path, rows: list[Any]) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


@pytest.fixture()
def scored(small_demo: SmallDemo, tmp_path: Path) -> tuple[Any, dict[str, Any]]:
    labels = small_demo.labels
    stages = {s["name"]: s for s in labels["stages"]}
    given = f"demo/data/{WIN}"  # as a user who ran `garrison hunt demo/data/logs` would see it
    phish = stages["phishing-macro"]
    c2 = stages["c2-dga-beacon"]
    lsass = stages["lsass-dump"]
    benign_line = next(
        n
        for n in range(1, 500)
        if n not in set(phish["records"][WIN]) and (WIN, n) not in small_demo.labelled()
    )
    conn_abs = str((small_demo.options.data_dir / CONN).resolve())
    findings = [
        _finding("macro", phish["start"] + 5000, [(given, phish["records"][WIN][1])]),
        _finding("noisy", phish["start"], [(given, benign_line)]),
        _finding(
            "beacon",
            c2["start"] - 60_000,
            [(conn_abs, c2["records"][CONN][0]), (conn_abs, c2["records"][CONN][5])],
        ),
        _finding(
            "dump",
            lsass["start"] + 90_000,
            [(given, "x"), ("elsewhere.log", 3), (given, lsass["records"][WIN][0])],
        ),
        "{not json",
    ]
    cast = labels["stages"][0]["entities"]
    tunnel = stages["exfil-dns-tunnel"]["entities"]["domains"][0]
    incidents = [
        _incident(
            "inc-attack",
            ["uid-macro", "uid-beacon", "uid-dump"],
            [
                ("host", cast["hosts"][0].lower()),
                ("ip", _external(c2["entities"]["ips"])),
                ("domain", f"abc.0001.{tunnel}"),
            ],
            88,
            "Critical",
        ),
        _incident("inc-noise", ["uid-noisy"], [("user", "someone")], 30, "Low"),
    ]
    results = tmp_path / "results"
    results.mkdir()
    _write(results / "findings.jsonl", findings)
    _write(results / "incidents.jsonl", incidents)
    return evaluate(results, load_labels(small_demo.options.labels_path)), stages


def test_stages_detected_and_time_to_detect(scored: tuple[Any, dict[str, Any]]) -> None:
    result, _ = scored
    by_name = {s.name: s for s in result.stages}
    assert {s.name for s in result.stages if s.detected} == {
        "phishing-macro",
        "c2-dga-beacon",
        "lsass-dump",
    }
    assert by_name["phishing-macro"].time_to_detect_s == 5.0
    assert by_name["c2-dga-beacon"].time_to_detect_s == 0.0  # clamped to the stage start
    assert by_name["c2-dga-beacon"].records_hit == 2
    assert by_name["lsass-dump"].time_to_detect_s == 90.0
    assert by_name["lsass-dump"].analytics == ["dump"]
    assert result.stages_detected == 3


def test_false_positives_and_counts(scored: tuple[Any, dict[str, Any]]) -> None:
    result, _ = scored
    assert result.findings_total == 4
    assert result.malformed_lines == 1
    assert result.true_positive_findings == 3
    assert result.false_positive_findings == 1
    assert result.false_positive_by_analytic == {"noisy": 1}
    assert result.incidents_total == 2
    assert result.false_positive_incidents == 1
    [attack] = result.incidents
    assert attack.uid == "inc-attack" and attack.band == "Critical"
    assert attack.stages == ["c2-dga-beacon", "lsass-dump", "phishing-macro"]
    assert attack.attack_findings == 3


def test_entity_recall(scored: tuple[Any, dict[str, Any]]) -> None:
    result, stages = scored
    found = {(e.kind, e.value): e for e in result.entities if e.incident}
    victim_host = stages["phishing-macro"]["entities"]["hosts"][0].lower()
    c2_ip = _external(stages["c2-dga-beacon"]["entities"]["ips"])
    tunnel = stages["exfil-dns-tunnel"]["entities"]["domains"][0]
    assert set(found) == {("host", victim_host), ("ip", c2_ip), ("domain", tunnel)}
    assert found[("host", victim_host)].band == "Critical"
    assert found[("host", victim_host)].risk_score == 88
    assert "phishing-macro" in found[("host", victim_host)].stages
    assert result.entity_recall == pytest.approx(3 / len(result.entities))
    payload = result.to_json()
    assert payload["stages_detected"] == 3 and payload["stages_total"] == 9
    json.dumps(payload)


def test_missing_results_is_an_input_error(small_demo: SmallDemo, tmp_path: Path) -> None:
    with pytest.raises(InputError):
        evaluate(tmp_path, small_demo.options.labels_path)
    with pytest.raises(InputError):
        load_labels(tmp_path / "nothing.json")
