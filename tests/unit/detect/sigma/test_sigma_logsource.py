"""Logsource mapping (channels, EventIDs, field maps) and source-key buckets."""

from __future__ import annotations

from typing import Any

from garrison.detect.sigma import detector_from_yaml
from garrison.detect.sigma.logsource import load_logsources

SYSMON = "Microsoft-Windows-Sysmon/Operational"

PROC = """
title: Whoami
id: 33333333-2222-3333-4444-555555555555
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\\whoami.exe'
        ParentImage|endswith: '\\cmd.exe'
    condition: selection
"""


def fired(rule: str, fields: dict[str, Any], fmt: str = "evtx", class_uid: int = 0) -> bool:
    det = detector_from_yaml(rule)
    assert not det.ruleset.errors, det.ruleset.errors
    return bool(det.engine.match(fields, fmt, class_uid)[0])


def test_process_creation_on_sysmon_1() -> None:
    ev = {
        "Channel": SYSMON,
        "EventID": 1,
        "Image": "C:\\Windows\\System32\\whoami.exe",
        "ParentImage": "C:\\Windows\\System32\\cmd.exe",
    }
    assert fired(PROC, ev)
    assert not fired(PROC, {**ev, "EventID": 3})  # network connection: another category
    assert not fired(PROC, {**ev, "Channel": "Security"})  # 4688-less Security event


def test_process_creation_on_security_4688_reads_mapped_fields() -> None:
    ev = {
        "Channel": "Security",
        "EventID": 4688,
        "NewProcessName": "C:\\Windows\\System32\\whoami.exe",
        "ParentProcessName": "C:\\Windows\\System32\\cmd.exe",
    }
    assert fired(PROC, ev)
    assert not fired(PROC, {**ev, "EventID": 4689})


def test_security_user_is_domain_backslash_user() -> None:
    rule = PROC.replace("ParentImage|endswith: '\\cmd.exe'", "User|contains: 'AUTHORI'")
    ev = {
        "Channel": "Security",
        "EventID": 4688,
        "NewProcessName": "c:\\x\\whoami.exe",
        "SubjectUserName": "SYSTEM",
        "SubjectDomainName": "NT AUTHORITY",
    }
    assert fired(rule, ev)
    assert not fired(rule, {**ev, "SubjectDomainName": "CORP"})


SERVICE = """
title: Service install
logsource:
    product: windows
    service: system
detection:
    selection:
        Provider_Name: 'Service Control Manager'
        EventID: 7045
        ImagePath|contains: 'powershell'
    condition: selection
"""


def test_service_rule_is_tied_to_its_channel() -> None:
    ev = {
        "Channel": "System",
        "EventID": 7045,
        "Provider_Name": "Service Control Manager",
        "ImagePath": "powershell -enc x",
    }
    assert fired(SERVICE, ev)
    assert not fired(SERVICE, {**ev, "Channel": "Application"})
    assert not fired(SERVICE, {**ev, "EventID": "7040"})
    assert fired(SERVICE, {**ev, "EventID": "7045"})  # EventID given as text


def test_registry_add_adds_event_type_condition() -> None:
    rule = """
title: Run key created
logsource:
    category: registry_add
    product: windows
detection:
    selection:
        TargetObject|contains: '\\CurrentVersion\\Run'
    condition: selection
"""
    ev = {
        "Channel": SYSMON,
        "EventID": 12,
        "EventType": "CreateKey",
        "TargetObject": "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\x",
    }
    assert fired(rule, ev)
    assert not fired(rule, {**ev, "EventType": "DeleteKey"})
    assert not fired(rule, {**ev, "EventID": 13})


def test_antivirus_category_uses_defender_field_names() -> None:
    rule = """
title: AV hit
logsource:
    category: antivirus
detection:
    selection:
        Signature|contains: 'Mimikatz'
    condition: selection
"""
    ev = {
        "Channel": "Microsoft-Windows-Windows Defender/Operational",
        "EventID": 1116,
        "ThreatName": "HackTool:Win32/Mimikatz.D",
    }
    assert fired(rule, ev)
    assert not fired(rule, {**ev, "EventID": 1000})


def test_unknown_category_applies_to_every_windows_event() -> None:
    rule = PROC.replace("process_creation", "some_future_category")
    det = detector_from_yaml(rule)
    assert len(det.ruleset.unmapped) == 1
    ev = {
        "Channel": "Anything",
        "EventID": 9,
        "Image": "c:\\whoami.exe",
        "ParentImage": "c:\\cmd.exe",
    }
    assert bool(det.engine.match(ev, "evtx", 0)[0])


def test_linux_keyword_rule_on_syslog_events() -> None:
    rule = """
title: SSH bad
logsource:
    product: linux
    service: sshd
detection:
    keywords:
        - 'error in libcrypto'
    condition: keywords
"""
    ev = {"program": "sshd", "message": "fatal: error in libcrypto", "hostname": "h"}
    assert fired(rule, ev, fmt="syslog")
    assert not fired(rule, {**ev, "program": "cron"}, fmt="syslog")
    assert not fired(rule, ev, fmt="zeek")


def test_product_only_windows_rule_sees_all_channels() -> None:
    rule = """
title: Any windows
logsource:
    product: windows
detection:
    selection:
        Computer: 'victim'
    condition: selection
"""
    assert fired(rule, {"Channel": "Whatever/Operational", "EventID": 1, "Computer": "VICTIM"})
    assert not fired(rule, {"Computer": "victim"}, fmt="jsonl")  # not a Windows event


def test_mapping_data_is_consistent() -> None:
    ls = load_logsources()
    assert "security" in ls.services
    targets, known = ls.targets({"product": "windows", "category": "process_creation"})
    assert known and len(targets) == 2
    assert {t.fieldmap for t in targets} == {"", "security_process_creation"}


def test_zeek_service_comes_from_the_log_name() -> None:
    rule = """
title: DNS TXT to a suspicious name
logsource:
    product: zeek
    service: dns
detection:
    selection:
        qtype_name: 'TXT'
        query|endswith: '.evil.example'
    condition: selection
"""
    det = detector_from_yaml(rule)
    fields = {"ts": 1.0, "id.orig_h": "10.0.0.5", "query": "a.b.EVIL.example", "qtype_name": "TXT"}
    dns = {"class_uid": 4003, "metadata": {"log_name": "dns"}}
    http = {"class_uid": 4002, "metadata": {"log_name": "http"}}
    assert det.engine.match(fields, "zeek", 4003, dns)[0]
    assert not det.engine.match(fields, "zeek", 4002, http)[0]
