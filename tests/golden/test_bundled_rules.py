"""Garrison's bundled Sigma rules, checked end to end through the real pipeline.

Cases are data (``content/windows_cases.yaml``): Windows-shaped JSON lines go through the
JSON-lines source, the Windows normalizer and the Sigma engine exactly as in a hunt. The
correlation rules are checked on generated logon sequences, with the boundaries tested.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from garrison.content import bundled_rules_dir
from garrison.core.config import GarrisonConfig, HuntConfig
from garrison.pipeline import HuntService
from garrison.store import MemoryEventStore, StateDB

CASES = yaml.safe_load((Path(__file__).parent / "content" / "windows_cases.yaml").read_text())
SYSMON = "Microsoft-Windows-Sysmon/Operational"
T0 = 1_700_000_000_000


def _windows_line(i: int, fields: dict) -> str:
    event = {
        "EventID": 1,
        "Channel": SYSMON,
        "Computer": "ws01.corp.local",
        "EventRecordID": i,
        "TimeCreated": "2023-11-14T22:13:20.000Z",
        "User": "CORP\\alice",
        "ProcessId": 4000 + i,
    }
    event.update(fields)
    return json.dumps(event)


def _hunt(tmp_path: Path, name: str, lines: list[str]) -> dict[str, set[int]]:
    """rule title -> set of line numbers cited as evidence."""
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = GarrisonConfig(home=tmp_path / "home", hunt=HuntConfig())
    service = HuntService(
        cfg, MemoryEventStore(), StateDB.memory(), rules_dirs=[bundled_rules_dir()]
    )
    report = service.run([str(path)])
    assert not report.rules_failed, report.rules_failed
    assert report.total().records_quarantined == 0
    fired: dict[str, set[int]] = {}
    for f in report.findings:
        fired.setdefault(f.title, set()).update(e.record_id for e in f.evidences)
    return fired


@pytest.mark.parametrize("case", CASES, ids=[c["rule"][:40] for c in CASES])
def test_windows_rule_cases(tmp_path: Path, case: dict) -> None:
    matches, misses = case["match"], case.get("no_match", [])
    lines = [_windows_line(i, ev) for i, ev in enumerate(matches + misses, start=1)]
    fired = _hunt(tmp_path, "events.jsonl", lines)
    cited = fired.get(case["rule"], set())
    assert cited == set(range(1, len(matches) + 1)), (case["rule"], fired)


def test_every_bundled_rule_has_a_case_or_a_correlation_test() -> None:
    titles = set()
    for path in bundled_rules_dir().rglob("*.yml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if "correlation" not in doc and doc.get("level") != "informational":
                titles.add((doc["title"], doc["logsource"].get("product")))
    windows = {t for t, product in titles if product == "windows"}
    assert windows == {c["rule"] for c in CASES}


def _failures(src: str, users: list[str], step_s: int = 20) -> list[str]:
    return [
        json.dumps(
            {
                "EventID": 4625,
                "Channel": "Security",
                "Computer": "dc01",
                "EventRecordID": i,
                "TargetUserName": u,
                "IpAddress": src,
                "LogonType": 3,
                "TimeCreated": _iso(T0 + i * step_s * 1000),
                "Provider_Name": "Microsoft-Windows-Security-Auditing",
            }
        )
        for i, u in enumerate(users)
    ]


def _iso(ms: int) -> str:
    from garrison.core.timeutil import iso

    return iso(ms).replace("+00:00", "Z")


def test_password_spraying_threshold(tmp_path: Path) -> None:
    sprayed = _hunt(tmp_path, "spray.jsonl", _failures("10.9.9.9", [f"user{i}" for i in range(6)]))
    assert "Password Spraying from One Source Against Many Windows Accounts" in sprayed
    below = _hunt(tmp_path, "few.jsonl", _failures("10.9.9.9", [f"user{i}" for i in range(5)]))
    assert "Password Spraying from One Source Against Many Windows Accounts" not in below


def test_windows_brute_force_threshold_and_window(tmp_path: Path) -> None:
    title = "Repeated Failed Logons to One Windows Account from One Source"
    assert title in _hunt(tmp_path, "bf.jsonl", _failures("10.1.1.1", ["admin"] * 10))
    assert title not in _hunt(tmp_path, "bf9.jsonl", _failures("10.1.1.1", ["admin"] * 9))
    # ten failures spread over 15 minutes never put ten inside one 10-minute window
    slow = _failures("10.1.1.1", ["admin"] * 10, step_s=100)
    assert title not in _hunt(tmp_path, "slow.jsonl", slow)


def _sshd(n_users: int, per_user: int) -> list[str]:
    lines = []
    for i in range(n_users * per_user):
        sec = 10 + i
        lines.append(
            f"Mar  3 04:{sec // 60:02d}:{sec % 60:02d} bastion sshd[{900 + i}]: "
            f"Failed password for invalid user u{i % n_users} from 198.51.100.7 "
            f"port {40000 + i} ssh2"
        )
    return lines


def test_sshd_brute_force_and_spraying(tmp_path: Path) -> None:
    brute = _hunt(tmp_path, "auth.log", _sshd(1, 12))
    assert "SSH Brute Force from One Source" in brute
    assert "SSH Password Spraying from One Source Against Many Accounts" not in brute
    spray = _hunt(tmp_path, "auth2.log", _sshd(7, 1))
    assert "SSH Password Spraying from One Source Against Many Accounts" in spray
    assert "SSH Brute Force from One Source" not in spray


def test_sudo_root_shell(tmp_path: Path) -> None:
    lines = [
        "Mar  3 04:00:01 web1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; "
        "COMMAND=/bin/bash",
        "Mar  3 04:00:02 web1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; "
        "COMMAND=/usr/bin/apt update",
    ]
    fired = _hunt(tmp_path, "sudo.log", lines)
    assert fired.get("Interactive Root Shell Obtained Through sudo") == {1}


# -- lateral movement: findings name the target host, the account and where it came from ----
ADMIN_SID = "S-1-5-21-1111111111-2222222222-3333333333-1104"
OTHER_SID = "S-1-5-21-1111111111-2222222222-3333333333-1201"
SERVICE_AFTER_LOGON = "Service Installed Right After a Network Logon by the Same Account"
TASK_AFTER_LOGON = "Scheduled Task Registered Right After a Network Logon by the Same Account"


def _security(i: int, ms: int, event_id: int, **fields: object) -> str:
    event = {
        "EventID": event_id,
        "Channel": "Security",
        "Provider_Name": "Microsoft-Windows-Security-Auditing",
        "Computer": "FS01.corp.local",
        "EventRecordID": i,
        "TimeCreated": _iso(T0 + ms),
    }
    event.update(fields)
    return json.dumps(event)


def _network_logon(i: int, ms: int, user: str = "adm-bob", sid: str = ADMIN_SID) -> str:
    return _security(
        i,
        ms,
        4624,
        TargetUserName=user,
        TargetUserSid=sid,
        TargetDomainName="CORP",
        LogonType=3,
        IpAddress="10.1.20.33",
        WorkstationName="WS-ALICE",
    )


def _service(i: int, ms: int, sid: str = ADMIN_SID, name: str = "BTOBTO") -> str:
    return json.dumps(
        {
            "EventID": 7045,
            "Channel": "System",
            "Provider_Name": "Service Control Manager",
            "Computer": "FS01.corp.local",
            "EventRecordID": i,
            "TimeCreated": _iso(T0 + ms),
            "Security_UserID": sid,
            "ServiceName": name,
            "ImagePath": "C:\\Windows\\xyzsvc.exe",
        }
    )


def _task(i: int, ms: int, sid: str = ADMIN_SID) -> str:
    return _security(
        i,
        ms,
        4698,
        SubjectUserName="adm-bob",
        SubjectUserSid=sid,
        SubjectDomainName="CORP",
        TaskName="\\Updater",
        TaskContent="<Task><Actions><Exec><Command>C:\\Windows\\upd.exe</Command></Exec>"
        "</Actions></Task>",
    )


def _named(tmp_path: Path, name: str, lines: list[str]) -> dict[str, set[str]]:
    """rule title -> entity keys its findings name."""
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = GarrisonConfig(home=tmp_path / "home", hunt=HuntConfig())
    service = HuntService(
        cfg, MemoryEventStore(), StateDB.memory(), rules_dirs=[bundled_rules_dir()]
    )
    report = service.run([str(path)])
    named: dict[str, set[str]] = {}
    for f in report.findings:
        named.setdefault(f.title, set()).update(e.key() for e in f.entities)
    return named


def test_service_installed_over_a_network_logon_names_host_account_and_source(
    tmp_path: Path,
) -> None:
    named = _named(tmp_path, "svc.jsonl", [_network_logon(1, 0), _service(2, 2_000)])
    assert {"host:fs01", "user:adm-bob", "ip:10.1.20.33"} <= named[SERVICE_AFTER_LOGON]


def test_service_correlation_needs_the_same_account_in_order_within_a_minute(
    tmp_path: Path,
) -> None:
    cases = {
        "other_account.jsonl": [_network_logon(1, 0), _service(2, 2_000, sid=OTHER_SID)],
        "too_late.jsonl": [_network_logon(1, 0), _service(2, 61_000)],
        "before_logon.jsonl": [_service(1, 0), _network_logon(2, 2_000)],
        "machine_account.jsonl": [
            _network_logon(1, 0, user="FS02$"),
            _service(2, 2_000),
        ],
        "logon_only.jsonl": [_network_logon(1, 0), _network_logon(2, 1_000)],
    }
    for name, lines in cases.items():
        assert SERVICE_AFTER_LOGON not in _named(tmp_path, name, lines), name
    assert SERVICE_AFTER_LOGON in _named(
        tmp_path, "in_time.jsonl", [_network_logon(1, 0), _service(2, 59_000)]
    )


def test_task_registered_over_a_network_logon_names_host_account_and_source(
    tmp_path: Path,
) -> None:
    named = _named(tmp_path, "task.jsonl", [_network_logon(1, 0), _task(2, 700)])
    assert {"host:fs01", "user:adm-bob", "ip:10.1.20.33"} <= named[TASK_AFTER_LOGON]
    other = _named(tmp_path, "task2.jsonl", [_network_logon(1, 0), _task(2, 700, OTHER_SID)])
    assert TASK_AFTER_LOGON not in other
    late = _named(tmp_path, "task3.jsonl", [_network_logon(1, 0), _task(2, 90_000)])
    assert TASK_AFTER_LOGON not in late


def test_explicit_credentials_finding_names_both_accounts_and_the_target(tmp_path: Path) -> None:
    line = _security(
        1,
        0,
        4648,
        Computer="WS-ALICE.corp.local",
        SubjectUserName="alice",
        TargetUserName="adm-bob",
        TargetServerName="FS01",
        ProcessName="C:\\Users\\Public\\PsExec64.exe",
        IpAddress="10.1.1.20",
        IpPort="445",
    )
    named = _named(tmp_path, "explicit.jsonl", [line])
    keys = named["Explicit Credentials Used by a Remote Execution Tool"]
    assert {"host:ws-alice", "user:alice", "user:adm-bob", "host:fs01", "ip:10.1.1.20"} <= keys


def test_wmi_child_finding_names_the_target_and_the_connecting_account(tmp_path: Path) -> None:
    line = _windows_line(
        1,
        {
            "Computer": "SQL01.corp.local",
            "User": "CORP\\adm-bob",
            "ParentImage": "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
            "Image": "C:\\Windows\\System32\\cmd.exe",
            "CommandLine": "cmd.exe /c sqlcmd -E -Q sp_databases",
        },
    )
    named = _named(tmp_path, "wmi.jsonl", [line])
    assert {"host:sql01", "user:adm-bob"} <= named[
        "Shell or Script Host Started by the WMI Provider Host"
    ]
