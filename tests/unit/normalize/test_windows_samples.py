"""Hand-written Windows records (EVTX JSON and flat exports) shared by the Windows tests.

Nothing here is copied from the corpus: values are invented, shapes follow what the
``evtx`` parser and the OTRF exports write.
"""

from __future__ import annotations

from typing import Any

SECURITY = "Microsoft-Windows-Security-Auditing"
SYSMON = "Microsoft-Windows-Sysmon"
SYSMON_CHANNEL = "Microsoft-Windows-Sysmon/Operational"


def evtx(
    event_id: Any = 4624,
    data: Any = None,
    *,
    channel: str = "Security",
    provider: str = SECURITY,
    computer: str = "WS01.corp.example",
    time: str = "2023-05-01T10:00:00.123456Z",
    record_id: int = 42,
    level: int = 0,
    keywords: str = "0x8020000000000000",
    user_data: Any = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One record as ``evtx`` records_json() writes it (after json.loads)."""
    system: dict[str, Any] = {
        "Provider": {
            "#attributes": {"Name": provider, "Guid": "{54849625-5478-4994-A5BA-3E3B0328C30D}"}
        },
        "EventID": event_id,
        "Version": 2,
        "Level": level,
        "Task": 12544,
        "Opcode": 0,
        "Keywords": keywords,
        "TimeCreated": {"#attributes": {"SystemTime": time}},
        "EventRecordID": record_id,
        "Correlation": None,
        "Execution": {"#attributes": {"ProcessID": 640, "ThreadID": 712}},
        "Channel": channel,
        "Computer": computer,
        "Security": {"#attributes": {"UserID": "S-1-5-18"}},
    }
    event: dict[str, Any] = {
        "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": system,
    }
    if user_data is not None:
        event["UserData"] = user_data
    else:
        event["EventData"] = data
    if extra:
        event.update(extra)
    return {"Event": event}


def sysmon(event_id: int, data: dict[str, Any], **kw: Any) -> dict[str, Any]:
    kw.setdefault("keywords", "0x8000000000000000")
    kw.setdefault("level", 4)
    return evtx(event_id, data, channel=SYSMON_CHANNEL, provider=SYSMON, **kw)


LOGON_4624 = {
    "SubjectUserSid": "S-1-5-18",
    "SubjectUserName": "WS01$",
    "SubjectDomainName": "CORP",
    "SubjectLogonId": "0x3e7",
    "TargetUserSid": "S-1-5-21-1-2-3-1104",
    "TargetUserName": "alice",
    "TargetDomainName": "CORP",
    "TargetLogonId": "0x5a3f1c",
    "LogonType": 10,
    "LogonProcessName": "User32 ",
    "AuthenticationPackageName": "Negotiate",
    "WorkstationName": "WS01",
    "LogonGuid": "{00000000-0000-0000-0000-000000000000}",
    "TransmittedServices": "-",
    "LmPackageName": "-",
    "KeyLength": 0,
    "ProcessId": "0x2a8",
    "ProcessName": "C:\\Windows\\System32\\svchost.exe",
    "IpAddress": "10.20.30.40",
    "IpPort": "51234",
    "ImpersonationLevel": "%%1833",
}

SYSMON_1 = {
    "RuleName": "-",
    "UtcTime": "2023-05-01 10:00:00.100",
    "ProcessGuid": "{AAAABBBB-0000-1111-2222-333344445555}",
    "ProcessId": 4242,
    "Image": "C:\\Windows\\System32\\cmd.exe",
    "FileVersion": "10.0",
    "Description": "Windows Command Processor",
    "Product": "Microsoft Windows",
    "Company": "Microsoft Corporation",
    "OriginalFileName": "Cmd.Exe",
    "CommandLine": "cmd.exe /c whoami",
    "CurrentDirectory": "C:\\Users\\alice\\",
    "User": "CORP\\alice",
    "LogonGuid": "{AAAABBBB-0000-1111-2222-000000000001}",
    "LogonId": "0x5a3f1c",
    "TerminalSessionId": 1,
    "IntegrityLevel": "High",
    "Hashes": "SHA1=0123456789ABCDEF0123456789ABCDEF01234567,"
    "MD5=0123456789ABCDEF0123456789ABCDEF,"
    "SHA256=AAAABBBBCCCCDDDDEEEEFFFF0000111122223333444455556666777788889999,"
    "IMPHASH=FEDCBA9876543210FEDCBA9876543210",
    "ParentProcessGuid": "{AAAABBBB-0000-1111-2222-999999999999}",
    "ParentProcessId": 1000,
    "ParentImage": "C:\\Windows\\explorer.exe",
    "ParentCommandLine": "C:\\Windows\\explorer.exe",
}
