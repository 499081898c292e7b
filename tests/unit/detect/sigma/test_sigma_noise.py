"""Findings, grouping, suppression windows, disable list, exceptions and Sigma filters."""

from __future__ import annotations

from typing import Any

from garrison.core.events import Event, Provenance
from garrison.detect.sigma import detector_from_yaml

RULE = """
title: Whoami Execution
id: 44444444-2222-3333-4444-555555555555
status: stable
level: high
tags:
    - attack.discovery
    - attack.t1033
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\\whoami.exe'
    filter_main:
        ParentImage|endswith: '\\msiexec.exe'
    condition: selection and not filter_main
falsepositives:
    - Admin scripts
"""
OTHER = RULE.replace("44444444", "55555555").replace("Whoami Execution", "Whoami Twin")

T0 = 1_700_000_000_000


def event(n: int, *, t: int = 0, host: str = "WS1", path: str = "a.evtx", **fields: Any) -> Event:
    flat = {
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "EventID": 1,
        "Computer": host,
        "Image": "C:\\Windows\\System32\\whoami.exe",
        "ParentImage": "C:\\Windows\\explorer.exe",
        "User": "CORP\\bob",
        **fields,
    }
    ocsf = {"class_uid": 1007, "device": {"hostname": host}, "actor": {"user": {"name": "bob"}}}
    return Event(
        f"uid-{path}-{n}", 1007, T0 + t, ocsf, flat, "{}", Provenance(path, "evtx", n, "fp", 0)
    )


def test_finding_follows_the_contract() -> None:
    det = detector_from_yaml(RULE)
    (finding,) = det.observe([event(1)])
    assert finding.analytic_uid == "44444444-2222-3333-4444-555555555555"
    assert finding.analytic_name == finding.title == "Whoami Execution"
    assert finding.severity_id == 4
    assert finding.confidence == 85  # stable (80) + high (+5)
    assert [(a.technique_uid, a.tactic_name) for a in finding.attacks] == [("T1033", "Discovery")]
    (ev,) = finding.evidences
    assert (ev.source_path, ev.record_id, ev.event_uid, ev.time) == (
        "a.evtx",
        1,
        "uid-a.evtx-1",
        T0,
    )
    assert dict(ev.summary)["Image"].endswith("whoami.exe")
    assert finding.explanation["matched_detections"] == ["selection"]
    assert finding.explanation["matched_fields"]["Image"].endswith("whoami.exe")
    assert {e.kind for e in finding.entities} >= {"host", "user"}
    ocsf = finding.to_ocsf()
    assert ocsf["finding_info"]["analytic"]["uid"] == finding.analytic_uid


def test_matches_group_per_rule_host_and_file_within_window() -> None:
    det = detector_from_yaml(RULE, options={"group_window_seconds": 60, "max_evidences": 2})
    events = [event(i, t=i * 1000) for i in range(1, 6)]  # 5 events in 5 s
    events.append(event(6, t=120_000))  # after the window: a new finding
    events.append(event(7, host="WS2"))  # another host
    events.append(event(8, path="b.evtx"))  # another file
    findings = det.observe(events)
    assert len(findings) == 4
    first = findings[0]
    assert first.count == 5 and len(first.evidences) == 2
    assert det.match_counts["44444444-2222-3333-4444-555555555555"] == 8
    stats = det.stats()
    assert stats["matches"] == 8 and stats["matches_folded"] == 4 and stats["findings"] == 4


def test_window_zero_gives_one_finding_per_event() -> None:
    det = detector_from_yaml(RULE, options={"group_window_seconds": 0})
    assert len(det.observe([event(i) for i in range(3)])) == 3


def test_per_rule_suppression_window() -> None:
    det = detector_from_yaml(
        RULE, OTHER, options={"group_window_seconds": 0, "suppress": {"Whoami Execution": 86400}}
    )
    findings = det.observe([event(i, t=i * 3_600_000) for i in range(1, 4)])
    by_rule: dict[str, list[Any]] = {}
    for f in findings:
        by_rule.setdefault(f.title, []).append(f)
    assert len(by_rule["Whoami Execution"]) == 1
    assert by_rule["Whoami Execution"][0].count == 3  # first kept, the rest counted
    assert len(by_rule["Whoami Twin"]) == 3


def test_disabled_rules_by_id_title_or_file() -> None:
    for key in ("44444444-2222-3333-4444-555555555555", "whoami execution", "rule1.yml"):
        det = detector_from_yaml(RULE, OTHER, options={"disabled": [key]})
        assert det.ruleset.disabled == 1
        assert {f.title for f in det.observe([event(1)])} == {"Whoami Twin"}


def test_configured_exception_vetoes_matches() -> None:
    opts = {"exceptions": {"Whoami Execution": [{"User|endswith": "\\svc_backup"}]}}
    det = detector_from_yaml(RULE, options=opts)
    assert det.observe([event(1, User="CORP\\svc_backup")]) == []
    assert len(det.observe([event(2, User="CORP\\alice")])) == 1


def test_rule_filter_still_applies() -> None:
    det = detector_from_yaml(RULE)
    assert det.observe([event(1, ParentImage="C:\\Windows\\System32\\msiexec.exe")]) == []


def test_sigma_filter_document() -> None:
    flt = """
title: Ignore the jump host
logsource:
    category: process_creation
    product: windows
filter:
    rules:
        - 44444444-2222-3333-4444-555555555555
    selection:
        Computer: 'JUMP01'
    condition: not selection
"""
    det = detector_from_yaml(RULE, OTHER, flt)
    assert det.ruleset.filters == 1
    titles = [f.title for f in det.observe([event(1, host="JUMP01")])]
    assert titles == ["Whoami Twin"]
    assert len(det.observe([event(2, host="WS9")])) == 2


def test_confidence_and_severity_scale() -> None:
    low = RULE.replace("status: stable", "status: experimental").replace(
        "level: high", "level: low"
    )
    (finding,) = detector_from_yaml(low).observe([event(1)])
    assert finding.severity_id == 2 and finding.confidence == 50


def test_bad_options_are_rejected() -> None:
    import pytest

    from garrison.core.errors import InputError

    with pytest.raises(InputError):
        detector_from_yaml(RULE, options={"group_by": ["planet"]})
    with pytest.raises(InputError):
        detector_from_yaml(RULE, options={"no_such_option": 1})
