"""The Windows normalizer on flat exports: NXLog and flat OTRF/Mordor lines, Winlogbeat
documents and EVTX JSON given as a line, mapped exactly like EVTX records."""

from __future__ import annotations

from typing import Any

import pytest

from garrison.core.errors import RecordError
from garrison.core.events import RawRecord
from garrison.normalize.mordor import normalize_mordor
from garrison.normalize.windows import (
    normalize_evtx,
    normalize_evtx_dict,
    normalize_windows_dict,
)
from tests.unit.normalize.test_windows_samples import (
    LOGON_4624,
    SYSMON_1,
    SYSMON_CHANNEL,
    evtx,
    sysmon,
)


def norm(data: dict[str, Any]) -> Any:
    return normalize_evtx(RawRecord(1, data, "{}"))


# ----------------------------------------------------------------------------- flat exports


NXLOG_4624 = {
    "EventTime": "2020-09-22 14:53:30",
    "@timestamp": "2020-09-22T18:53:32.340Z",
    "EventReceivedTime": "2020-09-22 14:53:32",
    "SourceModuleName": "eventlog",
    "SourceModuleType": "im_msvistalog",
    "host": "collector.example",
    "port": 60000,
    "@version": "1",
    "tags": ["mordorDataset"],
    "Severity": "INFO",
    "SeverityValue": 2,
    "EventType": "AUDIT_SUCCESS",
    "Category": "Logon",
    "Opcode": "Info",
    "OpcodeValue": 0,
    "Keywords": -9214364837600034816,
    "EventID": 4624,
    "Channel": "security",
    "SourceName": "Microsoft-Windows-Security-Auditing",
    "ProviderGuid": "{54849625-5478-4994-A5BA-3E3B0328C30D}",
    "RecordNumber": 5100002,
    "ExecutionProcessID": 760,
    "ThreadID": 3344,
    "Task": 12544,
    "Version": 2,
    "Hostname": "WS06.corp.example",
    "Message": "An account was successfully logged on.",
    "TargetUserName": "bob",
    "TargetDomainName": "CORP",
    "LogonType": "3",
    "IpAddress": "10.9.8.7",
    "IpPort": "50711",
    "AuthenticationPackageName": "Kerberos",
    "ProcessId": "0x0",
    "AccountName": "SYSTEM",
    "Domain": "NT AUTHORITY",
}


def test_nxlog_export_maps_to_the_convention() -> None:
    n = normalize_windows_dict(dict(NXLOG_4624))
    f = n.fields
    assert f["Channel"] == "Security"
    assert f["Computer"] == "WS06.corp.example"
    assert f["Provider_Name"] == "Microsoft-Windows-Security-Auditing"
    assert f["Provider_Guid"] == "{54849625-5478-4994-A5BA-3E3B0328C30D}"
    assert f["EventRecordID"] == 5100002
    assert (f["Execution_ProcessID"], f["Execution_ThreadID"]) == (760, 3344)
    assert f["Keywords"] == "0x8020000000000000"
    assert f["Opcode"] == 0
    assert f["TargetUserName"] == "bob" and f["ProcessId"] == "0x0"
    for transport in (
        "host",
        "port",
        "EventType",
        "Severity",
        "Category",
        "AccountName",
        "Domain",
        "EventTime",
        "@timestamp",
        "tags",
        "Hostname",
        "SourceName",
    ):
        assert transport not in f, transport
    # local EventTime put in UTC with its offset to @timestamp (4 h), second precision
    assert f["TimeCreated"] == "2020-09-22T18:53:30.000Z"
    assert n.time == 1600800810000
    assert n.ocsf["metadata"]["original_time"] == "2020-09-22 14:53:30"
    assert n.ocsf["metadata"]["loggers"] == [
        {"name": "nxlog", "device": {"hostname": "collector.example"}}
    ]
    assert n.ocsf["device"] == {"hostname": "WS06.corp.example"}
    assert n.class_uid == 3002 and n.ocsf["user"]["name"] == "bob"
    assert n.ocsf["severity_id"] == 1


def test_nxlog_receive_delay_beyond_five_minutes_uses_timestamp() -> None:
    n = normalize_windows_dict({**NXLOG_4624, "EventTime": "2020-09-22 14:40:00"})
    assert n.time == 1600800812340  # @timestamp


def test_nxlog_event_type_collision() -> None:
    base = {
        "SourceModuleType": "im_msvistalog",
        "Channel": SYSMON_CHANNEL,
        "SourceName": "Microsoft-Windows-Sysmon",
        "UtcTime": "2020-09-22 18:53:01.266",
        "Hostname": "WS05",
        "TargetObject": "HKLM\\x",
    }
    replaced = normalize_windows_dict({**base, "EventID": 13, "EventTypeOrignal": "INFO"})
    assert replaced.fields["EventType"] == "SetValue"  # restored: 13 is always SetValue
    from_message = normalize_windows_dict(
        {
            **base,
            "EventID": 12,
            "EventType": "INFO",
            "Message": "Registry object added or deleted:\r\n"
            "RuleName: -\r\nEventType: DeleteKey\r\n",
        }
    )
    assert from_message.fields["EventType"] == "DeleteKey"
    unknown = normalize_windows_dict({**base, "EventID": 12, "EventType": "INFO"})
    assert "EventType" not in unknown.fields  # 12 is ambiguous: nothing invented
    kept = normalize_windows_dict({**base, "EventID": 12, "EventType": "CreateKey"})
    assert kept.fields["EventType"] == "CreateKey"
    other = normalize_windows_dict({**base, "EventID": 10, "EventType": "INFO"})
    assert "EventType" not in other.fields
    assert replaced.time == 1600800781266  # Sysmon UtcTime


def test_flat_export() -> None:
    record = {
        "TimeCreated": "2021-03-02 11:40:12.250",
        "SourceName": "Microsoft-Windows-Security-Auditing",
        "EventID": 5156,
        "Channel": "security",
        "Task": "12810",
        "Hostname": "LAB-WS09",
        "Message": "The Windows Filtering Platform has permitted a connection.",
        "ProcessID": "2716",
        "Application": "\\device\\x.exe",
        "Direction": "%%14593",
        "SourceAddress": "10.50.0.12",
        "SourcePort": "50999",
        "DestAddress": "198.51.100.80",
        "DestPort": "80",
        "Protocol": "6",
        "ProcessId": "99",
    }
    n = normalize_windows_dict(record)
    f = n.fields
    assert f["Channel"] == "Security" and f["Task"] == 12810
    assert f["ProcessID"] == "2716" and f["ProcessId"] == "99"  # both, as in the record
    assert f["Message"].startswith("The Windows Filtering Platform")
    assert n.time == 1614685212250  # naive TimeCreated taken as UTC (no offset known here)
    assert n.class_uid == 4001 and n.ocsf["actor"]["process"]["pid"] == 2716
    assert n.ocsf["connection_info"]["direction"] == "Outbound"


def test_classic_powershell_message_becomes_data() -> None:
    n = normalize_windows_dict(
        {
            "EventID": 800,
            "Channel": "Windows PowerShell",
            "SourceName": "PowerShell",
            "Hostname": "WS1",
            "TimeCreated": "2020-08-07T14:32:27Z",
            "Message": "Pipeline execution details\r\n\tHostName=ConsoleHost",
        }
    )
    assert n.fields["Data"] == n.fields["Message"]
    assert "HostName=ConsoleHost" in n.fields["Data"]


@pytest.mark.parametrize(
    "record, reason",
    [
        ({"Channel": "Security", "TimeCreated": "2020-01-01T00:00:00Z"}, "EventID"),
        ({"EventID": "x", "Channel": "Security"}, "EventID"),
        ({"EventID": 4624, "Channel": "Security"}, "no timestamp"),
        ({"EventID": 4624, "TimeCreated": "not a time"}, "bad timestamp"),
        ({"EventID": 4624, "TimeCreated": ["2020"]}, "unusable timestamp"),
    ],
)
def test_flat_records_without_id_or_time(record: dict[str, Any], reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        normalize_windows_dict(record)


def test_mordor_clock_offset_applies_to_time_created_only() -> None:
    security = {
        "EventID": 4688,
        "Channel": "Security",
        "Hostname": "LAB-WS09",
        "SourceName": "Microsoft-Windows-Security-Auditing",
        "TimeCreated": "2020-10-19 12:28:31.089",
        "NewProcessName": "C:\\a.exe",
    }
    shifted = normalize_mordor(RawRecord(3, security, "{}", {"clock_offset_ms": -8 * 3600000}))
    assert (
        shifted.time == 1603081711089
        and shifted.fields["TimeCreated"] == "2020-10-19T04:28:31.089Z"
    )
    assert shifted.ocsf["metadata"]["original_time"] == "2020-10-19 12:28:31.089"
    sysmon_rec = {
        **security,
        "EventID": 1,
        "Channel": SYSMON_CHANNEL,
        "SourceName": "Microsoft-Windows-Sysmon",
        "UtcTime": "2020-10-19 04:28:31.089",
    }
    same = normalize_mordor(RawRecord(4, sysmon_rec, "{}", {"clock_offset_ms": -8 * 3600000}))
    assert same.time == 1603081711089  # UtcTime is already UTC: no correction
    plain = normalize_mordor(RawRecord(5, security, "{}"))
    assert plain.time == normalize_windows_dict(security).time


def test_winlogbeat_documents() -> None:
    doc = {
        "@timestamp": "2021-03-04T10:11:12.123Z",
        "message": "An account was logged on.",
        "log": {"level": "information"},
        "host": {"name": "dc01"},
        "winlog": {
            "channel": "Security",
            "event_id": "4624",
            "record_id": "77",
            "provider_name": "Microsoft-Windows-Security-Auditing",
            "computer_name": "dc01.corp.example",
            "process": {"pid": 640, "thread": {"id": 720}},
            "user": {"identifier": "S-1-5-18"},
            "event_data": {
                "TargetUserName": "carol",
                "LogonType": "3",
                "IpAddress": "10.1.2.3",
                "IpPort": "50123",
            },
        },
    }
    n = normalize_windows_dict(doc)
    f = n.fields
    assert (f["EventID"], f["Channel"], f["Computer"], f["EventRecordID"]) == (
        4624,
        "Security",
        "dc01.corp.example",
        77,
    )
    assert f["Execution_ProcessID"] == 640 and f["Security_UserID"] == "S-1-5-18"
    assert f["Level"] == 4 and f["TargetUserName"] == "carol"
    assert n.time == 1614852672123 and n.class_uid == 3002
    assert n.ocsf["src_endpoint"] == {"ip": "10.1.2.3", "port": 50123}


def test_evtx_json_given_as_a_dict_line() -> None:
    data = evtx(4624, dict(LOGON_4624))
    assert normalize_windows_dict(data) == normalize_evtx_dict(data) == norm(data)


def test_one_mapping_for_both_shapes() -> None:
    """The same Sysmon process creation from EVTX and from a flat export maps alike."""
    from_evtx = norm(sysmon(1, dict(SYSMON_1), computer="WS01"))
    flat = {
        **SYSMON_1,
        "EventID": 1,
        "Channel": "microsoft-windows-sysmon/operational",
        "SourceName": "Microsoft-Windows-Sysmon",
        "Hostname": "WS01",
        "TimeCreated": "2023-05-01 10:00:00.123",
        "ProcessId": "4242",
        "ParentProcessId": "1000",
    }
    from_flat = normalize_windows_dict(flat)
    assert from_flat.fields["Channel"] == SYSMON_CHANNEL
    assert from_flat.class_uid == from_evtx.class_uid == 1007
    for key in ("process", "actor", "device", "class_name", "activity_id", "type_uid"):
        assert from_flat.ocsf[key] == from_evtx.ocsf[key], key
