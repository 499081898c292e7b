"""The Windows normalizer: the flat ``fields`` convention and the OCSF mapping, per shape."""

from __future__ import annotations

from typing import Any

import pytest

from garrison.core.entities import Entity, entities_of
from garrison.core.errors import RecordError
from garrison.core.events import RawRecord
from garrison.normalize.windows import (
    normalize_evtx,
    normalize_windows_dict,
)
from tests.unit.normalize.test_windows_samples import (
    LOGON_4624,
    SYSMON_1,
    evtx,
    sysmon,
)


def norm(data: dict[str, Any]) -> Any:
    return normalize_evtx(RawRecord(1, data, "{}"))


# ----------------------------------------------------------------------------- fields


def test_system_values_use_the_convention_names() -> None:
    f = norm(evtx(4624, dict(LOGON_4624))).fields
    assert f["EventID"] == 4624 and isinstance(f["EventID"], int)
    assert f["Channel"] == "Security"
    assert f["Provider_Name"] == "Microsoft-Windows-Security-Auditing"
    assert f["Provider_Guid"] == "{54849625-5478-4994-A5BA-3E3B0328C30D}"
    assert f["Computer"] == "WS01.corp.example"
    assert f["EventRecordID"] == 42
    assert (f["Level"], f["Task"], f["Opcode"], f["Version"]) == (0, 12544, 0, 2)
    assert f["Keywords"] == "0x8020000000000000"
    assert f["TimeCreated"] == "2023-05-01T10:00:00.123456Z"
    assert (f["Execution_ProcessID"], f["Execution_ThreadID"]) == (640, 712)
    assert f["Security_UserID"] == "S-1-5-18"
    assert f["TargetUserName"] == "alice" and f["LogonType"] == 10


def test_event_id_with_qualifiers() -> None:
    n = norm(
        evtx(
            {"#attributes": {"Qualifiers": 16384}, "#text": 7045},
            {"ServiceName": "evil"},
            channel="System",
            provider="Service Control Manager",
        )
    )
    assert n.fields["EventID"] == 7045
    assert n.fields["EventID_Qualifiers"] == 16384
    assert n.ocsf["metadata"]["event_code"] == "7045"


def test_event_data_wins_over_system_names() -> None:
    n = norm(evtx(4624, {"Computer": "from-data", "Level": "x"}))
    assert n.fields["Computer"] == "from-data" and n.fields["Level"] == "x"
    assert n.ocsf["device"]["hostname"] == "from-data"
    assert n.fields["EventID"] == 4624


def test_event_id_in_event_data_does_not_change_the_mapping() -> None:
    n = norm(evtx(4624, {**LOGON_4624, "EventID": "999"}))
    assert n.fields["EventID"] == "999"  # the convention: event data wins in ``fields``
    assert n.class_uid == 3002 and n.ocsf["metadata"]["event_code"] == "4624"


def test_unnamed_data_items_are_joined_as_data() -> None:
    several = norm(
        evtx(
            800,
            {"Data": {"#text": ["Get-Process", None, "HostName=ConsoleHost"]}},
            channel="Windows PowerShell",
            provider="PowerShell",
        )
    )
    assert several.fields["Data"] == "Get-Process\n\nHostName=ConsoleHost"
    one = norm(
        evtx(
            403,
            {"Data": {"#text": "Stopped"}, "Binary": None},
            channel="Windows PowerShell",
            provider="PowerShell",
        )
    )
    assert one.fields["Data"] == "Stopped" and one.fields["Binary"] is None


def test_names_with_spaces_are_also_stored_without() -> None:
    f = norm(
        evtx(
            1116,
            {"Source Name": "Real-Time Protection", "Threat Name": "EICAR"},
            channel="Microsoft-Windows-Windows Defender/Operational",
            provider="Microsoft-Windows-Windows Defender",
        )
    ).fields
    assert f["Source Name"] == f["SourceName"] == "Real-Time Protection"
    assert f["ThreatName"] == "EICAR"


def test_user_data_leaves_and_collisions() -> None:
    user_data = {
        "LogFileCleared": {
            "#attributes": {"xmlns": "http://manifests.microsoft.com/win/2004/08/windows/eventlog"},
            "SubjectUserName": "mallory",
            "SubjectDomainName": "CORP",
            "Inner": {"SubjectUserName": "second", "Deep": {"#text": "text-leaf"}},
        }
    }
    n = norm(evtx(1102, user_data=user_data, provider="Microsoft-Windows-Eventlog"))
    f = n.fields
    assert f["SubjectUserName"] == "mallory"
    assert f["Inner_SubjectUserName"] == "second"
    assert f["Deep"] == "text-leaf"
    assert "xmlns" not in f
    assert n.class_uid == 0 and n.ocsf["unmapped"] == {"UserData": user_data}


def test_odd_value_types_become_plain_values() -> None:
    n = norm(
        evtx(
            4624, {"A": ["x", 1], "B": {"k": "v"}, "C": {"#text": ["p", "q"]}, "D": True, "E": 1.5}
        )
    )
    assert n.fields["A"] == "x\n1"
    assert n.fields["B"] == '{"k": "v"}'
    assert n.fields["C"] == "p\nq"
    assert n.fields["D"] is True and n.fields["E"] == 1.5


def test_rendering_info_message() -> None:
    n = norm(
        evtx(
            4624,
            dict(LOGON_4624),
            extra={
                "RenderingInfo": {
                    "#attributes": {"Culture": "en-US"},
                    "Message": "An account was logged on.",
                }
            },
        )
    )
    assert n.fields["Message"] == "An account was logged on."


@pytest.mark.parametrize(
    "data, reason",
    [
        ({}, "no Event element"),
        ({"Event": {"EventData": {}}}, "no System element"),
        ({"Event": {"System": []}}, "no System element"),
        (evtx(None), "no usable EventID"),
        (evtx("four"), "no usable EventID"),
        (evtx(-1), "no usable EventID"),
        (evtx({"#text": None}), "no usable EventID"),
        (evtx(4624, time="yesterday"), "bad timestamp"),
        (evtx(4624, time="1601-01-01T00:00:00Z"), "outside 2000-2100"),
        (evtx(4624, time=12345), "unusable timestamp"),  # type: ignore[arg-type]
    ],
)
def test_unmappable_records_raise_record_error(data: dict[str, Any], reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        norm(data)


def test_missing_time_created() -> None:
    data = evtx(4624)
    del data["Event"]["System"]["TimeCreated"]
    with pytest.raises(RecordError, match="TimeCreated"):
        norm(data)


def test_non_dict_record_data() -> None:
    with pytest.raises(RecordError):
        normalize_evtx(RawRecord(1, "not a dict", "x"))
    with pytest.raises(RecordError):
        normalize_windows_dict(["a list"])  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- common OCSF


def test_common_ocsf_attributes() -> None:
    n = norm(evtx(4624, dict(LOGON_4624)))
    o = n.ocsf
    assert n.time == o["time"] == 1682935200123
    assert o["device"] == {"hostname": "WS01.corp.example"}
    meta = o["metadata"]
    assert meta["original_time"] == "2023-05-01T10:00:00.123456Z"
    assert meta["log_name"] == "Security" and meta["event_code"] == "4624"
    assert meta["product"] == {
        "name": "Microsoft-Windows-Security-Auditing",
        "vendor_name": "Microsoft",
    }
    assert meta["uid"] == "42"
    assert o["severity_id"] == 1 and o["severity"] == "Informational"
    assert o["type_uid"] == o["class_uid"] * 100 + o["activity_id"]


@pytest.mark.parametrize(
    "level, severity", [(0, 1), (1, 5), (2, 4), (3, 3), (4, 1), (5, 1), (9, 0)]
)
def test_severity_from_level(level: int, severity: int) -> None:
    assert (
        norm(evtx(7, {"x": 1}, level=level, channel="System", provider="disk")).ocsf["severity_id"]
        == severity
    )


# ----------------------------------------------------------------------------- Authentication


def test_logon_4624() -> None:
    n = norm(evtx(4624, dict(LOGON_4624)))
    o = n.ocsf
    assert n.class_uid == 3002 and o["activity_name"] == "Logon"
    assert o["status"] == "Success" and o["status_id"] == 1
    assert o["user"] == {"name": "alice", "domain": "CORP", "uid": "S-1-5-21-1-2-3-1104"}
    assert o["actor"]["user"]["name"] == "WS01$"
    assert o["actor"]["process"]["pid"] == 0x2A8
    assert o["src_endpoint"] == {"ip": "10.20.30.40", "port": 51234, "hostname": "WS01"}
    assert o["dst_endpoint"] == {"hostname": "WS01.corp.example"}
    assert (o["logon_type_id"], o["logon_type"], o["is_remote"]) == (10, "Remote Interactive", True)
    assert (o["auth_protocol_id"], o["auth_protocol"]) == (99, "Negotiate")
    assert o["logon_process"] == {"name": "User32"}
    assert o["session"] == {"uid": "0x5a3f1c"}
    assert set(entities_of(o)) >= {
        Entity("user", "alice"),
        Entity("ip", "10.20.30.40"),
        Entity("host", "ws01"),
    }


def test_logon_failure_4625() -> None:
    data = {
        **LOGON_4624,
        "Status": "0xc000006d",
        "SubStatus": "0xc000006a",
        "FailureReason": "%%2313",
        "LogonType": "3",
        "AuthenticationPackageName": "NTLM",
        "IpAddress": "::ffff:192.0.2.7",
    }
    o = norm(evtx(4625, data, keywords="0x8010000000000000")).ocsf
    assert o["status"] == "Failure" and o["status_id"] == 2
    assert o["status_code"] == "0xc000006d" and o["status_detail"] == "0xc000006a"
    assert o["auth_protocol"] == "NTLM" and o["auth_protocol_id"] == 1
    assert o["src_endpoint"]["ip"] == "192.0.2.7"
    assert o["logon_type"] == "Network"


@pytest.mark.parametrize(
    "event_id, status, failed, protocol, activity",
    [
        (4768, "0x0", False, "Kerberos", "Authentication Ticket"),
        (4768, "0x6", True, "Kerberos", "Authentication Ticket"),
        (4769, "0x0", False, "Kerberos", "Service Ticket Request"),
        (4771, "0x18", True, "Kerberos", "Preauth"),
        (4776, "0x0", False, "NTLM", "Credential Validation"),
        (4776, "0xc0000064", True, "NTLM", "Credential Validation"),
    ],
)
def test_domain_controller_events(
    event_id: int, status: str, failed: bool, protocol: str, activity: str
) -> None:
    data = {
        "TargetUserName": "bob",
        "TargetDomainName": "CORP",
        "ServiceName": "krbtgt",
        "Status": status,
        "IpAddress": "::ffff:10.0.0.9",
        "IpPort": "0",
        "Workstation": "\\\\WS02",
    }
    o = norm(evtx(event_id, data)).ocsf
    assert o["status"] == ("Failure" if failed else "Success")
    assert o["auth_protocol"] == protocol and o["activity_name"] == activity
    assert o["user"]["name"] == "bob"
    assert o["src_endpoint"]["ip"] == "10.0.0.9" and "port" not in o["src_endpoint"]
    assert o["src_endpoint"]["hostname"] == "WS02"
    if event_id != 4776:
        assert o["service"] == {"name": "krbtgt"}


def test_special_privileges_4672_names_the_subject() -> None:
    o = norm(
        evtx(
            4672,
            {
                "SubjectUserSid": "S-1-5-21-9",
                "SubjectUserName": "admin",
                "SubjectDomainName": "CORP",
                "SubjectLogonId": "0x1",
                "PrivilegeList": "SeDebugPrivilege",
            },
        )
    ).ocsf
    assert o["user"]["name"] == "admin" and o["class_uid"] == 3002


def test_explicit_credentials_4648_points_at_the_target_server() -> None:
    o = norm(
        evtx(
            4648,
            {
                "SubjectUserName": "alice",
                "TargetUserName": "svc_backup",
                "TargetServerName": "fs01.corp.example",
                "IpAddress": "10.0.0.50",
                "IpPort": "445",
            },
        )
    ).ocsf
    assert o["user"]["name"] == "svc_backup" and o["actor"]["user"]["name"] == "alice"
    assert o["dst_endpoint"] == {"ip": "10.0.0.50", "port": 445, "hostname": "fs01.corp.example"}
    assert o["src_endpoint"] == {"hostname": "WS01.corp.example"}


def test_logoff_and_null_sid() -> None:
    o = norm(
        evtx(
            4634,
            {
                "TargetUserSid": "S-1-0-0",
                "TargetUserName": "-",
                "TargetLogonId": "0x9",
                "LogonType": 3,
            },
        )
    ).ocsf
    assert o["activity_name"] == "Logoff" and "user" not in o
    assert o["session"] == {"uid": "0x9"}


# ----------------------------------------------------------------------------- Process


def test_sysmon_process_create() -> None:
    n = norm(sysmon(1, dict(SYSMON_1)))
    o = n.ocsf
    assert n.class_uid == 1007 and o["activity_name"] == "Launch"
    proc = o["process"]
    assert proc["pid"] == 4242 and proc["name"] == "cmd.exe"
    assert proc["cmd_line"] == "cmd.exe /c whoami"
    assert proc["file"]["path"] == "C:\\Windows\\System32\\cmd.exe"
    assert [h["algorithm"] for h in proc["file"]["hashes"]] == ["SHA256", "SHA1", "MD5", "IMPHASH"]
    assert proc["file"]["hashes"][0] == {
        "algorithm": "SHA256",
        "algorithm_id": 3,
        "value": "aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999",
    }
    assert proc["file"]["hashes"][3]["algorithm_id"] == 99
    assert proc["parent_process"]["pid"] == 1000
    assert proc["parent_process"]["file"]["name"] == "explorer.exe"
    assert proc["integrity"] == "High"
    assert o["actor"]["user"] == {"name": "alice", "domain": "CORP"}
    assert Entity(
        "hash", "aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999"
    ) in entities_of(o)


def test_security_process_create_4688() -> None:
    o = norm(
        evtx(
            4688,
            {
                "SubjectUserName": "alice",
                "SubjectDomainName": "CORP",
                "SubjectUserSid": "S-1-5-21-5",
                "NewProcessId": "0x1a2b",
                "NewProcessName": "C:\\Windows\\System32\\whoami.exe",
                "ProcessId": "0x670",
                "CommandLine": "whoami /all",
                "ParentProcessName": "C:\\Windows\\System32\\cmd.exe",
                "TargetUserSid": "S-1-0-0",
                "TargetUserName": "-",
            },
        )
    ).ocsf
    assert o["class_uid"] == 1007
    assert o["process"]["pid"] == 0x1A2B and o["process"]["name"] == "whoami.exe"
    assert o["process"]["parent_process"]["pid"] == 0x670
    assert o["actor"]["user"]["name"] == "alice"
    assert "user" not in o["process"]


def test_hashes_with_junk() -> None:
    o = norm(sysmon(1, {**SYSMON_1, "Hashes": "junk,=,MD5=ABC, SHA1 = DEF ,"})).ocsf
    assert o["process"]["file"]["hashes"] == [
        {"algorithm": "SHA1", "algorithm_id": 2, "value": "def"},
        {"algorithm": "MD5", "algorithm_id": 1, "value": "abc"},
    ]
    o = norm(sysmon(1, {**SYSMON_1, "Hashes": 5})).ocsf
    assert "hashes" not in o["process"]["file"]


# ----------------------------------------------------------------------------- Network, DNS, File


def test_sysmon_network_connection() -> None:
    o = norm(
        sysmon(
            3,
            {
                "ProcessId": 3912,
                "Image": "C:\\x\\powershell.exe",
                "User": "CORP\\bob",
                "Protocol": "tcp",
                "Initiated": "true",
                "SourceIp": "10.0.2.15",
                "SourceHostname": "ws01",
                "SourcePort": 49727,
                "DestinationIp": "203.0.113.5",
                "DestinationHostname": "-",
                "DestinationPort": 443,
            },
        )
    ).ocsf
    assert o["class_uid"] == 4001
    assert o["src_endpoint"] == {"ip": "10.0.2.15", "port": 49727, "hostname": "ws01"}
    assert o["dst_endpoint"] == {"ip": "203.0.113.5", "port": 443}
    assert o["connection_info"] == {
        "protocol_name": "tcp",
        "direction_id": 2,
        "direction": "Outbound",
    }
    assert o["actor"]["process"]["name"] == "powershell.exe"
    assert o["actor"]["user"]["name"] == "bob"


def test_wfp_connection_5156() -> None:
    o = norm(
        evtx(
            5156,
            {
                "ProcessID": 4,
                "Application": "System",
                "Direction": "%%14592",
                "SourceAddress": "10.0.0.5",
                "SourcePort": "445",
                "DestAddress": "10.0.0.9",
                "DestPort": "50000",
                "Protocol": 6,
            },
        )
    ).ocsf
    assert o["class_uid"] == 4001
    assert o["connection_info"] == {
        "protocol_num": 6,
        "protocol_name": "tcp",
        "direction_id": 1,
        "direction": "Inbound",
    }
    assert o["actor"]["process"]["pid"] == 4
    assert o["src_endpoint"]["port"] == 445 and o["dst_endpoint"]["ip"] == "10.0.0.9"


def test_sysmon_dns_query() -> None:
    o = norm(
        sysmon(
            22,
            {
                "QueryName": "evil.example.com",
                "QueryStatus": "0",
                "QueryResults": "type:  5 cdn.example.net;::ffff:198.51.100.7;2001:db8::1;",
                "Image": "C:\\x\\chrome.exe",
                "ProcessId": 10,
            },
        )
    ).ocsf
    assert o["class_uid"] == 4003
    assert o["query"] == {"hostname": "evil.example.com"}
    assert o["answers"] == [
        {"type": "CNAME", "rdata": "cdn.example.net"},
        {"type": "A", "rdata": "198.51.100.7"},
        {"type": "AAAA", "rdata": "2001:db8::1"},
    ]
    assert (o["rcode_id"], o["rcode"]) == (0, "NoError")
    assert Entity("domain", "evil.example.com") in entities_of(o)
    nx = norm(sysmon(22, {"QueryName": "wpad", "QueryStatus": "9003", "QueryResults": "-"})).ocsf
    assert (nx["rcode_id"], nx["rcode"]) == (3, "NXDomain") and "answers" not in nx


@pytest.mark.parametrize("event_id, activity", [(11, "Create"), (23, "Delete"), (26, "Delete")])
def test_sysmon_file_events(event_id: int, activity: str) -> None:
    o = norm(
        sysmon(
            event_id,
            {
                "TargetFilename": "C:\\Users\\a\\evil.dll",
                "Image": "C:\\x\\word.exe",
                "ProcessId": 7,
                "Hashes": "MD5=00FF",
            },
        )
    ).ocsf
    assert o["class_uid"] == 1001 and o["activity_name"] == activity
    assert o["file"]["path"] == "C:\\Users\\a\\evil.dll" and o["file"]["name"] == "evil.dll"
    assert o["actor"]["process"]["pid"] == 7


def test_base_event_keeps_event_data_verbatim() -> None:
    data = {"ImageLoaded": "C:\\x.dll", "Signed": "false"}
    n = norm(sysmon(7, data))
    assert n.class_uid == 0 and n.ocsf["class_name"] == "Base Event"
    assert n.ocsf["unmapped"] == data
    assert n.ocsf["message"] == "Microsoft-Windows-Sysmon event 7"
    assert n.ocsf["metadata"]["product"]["name"] == "Microsoft-Windows-Sysmon"


def test_security_mapping_needs_the_security_log() -> None:
    """EventID 4624 in another channel is not a logon: Sigma's complaint about
    EventID-only matching applies to mappings too."""
    assert norm(evtx(4624, {"x": 1}, channel="Application", provider="MyApp")).class_uid == 0
    assert norm(evtx(1, {"x": 1}, channel="System", provider="Kernel")).class_uid == 0
