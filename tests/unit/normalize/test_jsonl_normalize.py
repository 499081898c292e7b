"""JSON lines normalizer: OCSF pass-through, Windows hand-off, ECS, API, generic, time rules."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from garrison.core.errors import RecordError
from garrison.core.events import RawRecord
from garrison.normalize.base import Normalized
from garrison.normalize.jsonl import (
    MAX_KEYS,
    flatten,
    is_windows_shaped,
    normalize_jsonl,
    pick_time,
)

HAS_WINDOWS = importlib.util.find_spec("garrison.normalize.windows") is not None
needs_windows = pytest.mark.skipif(
    not HAS_WINDOWS, reason="garrison.normalize.windows (another helper's module) not present"
)


def norm(obj: dict[str, Any]) -> Normalized:
    return normalize_jsonl(RawRecord(1, obj, "raw"))


def test_ocsf_passthrough_and_validation() -> None:
    obj = {"class_uid": 4001, "time": 1700000000000, "src_endpoint": {"ip": "1.1.1.1"}}
    n = norm(obj)
    assert (n.class_uid, n.time, n.ocsf) == (4001, 1700000000000, obj)
    assert n.fields["src_endpoint.ip"] == "1.1.1.1"
    assert norm({"class_uid": 1, "time": "2024-01-01T00:00:00Z"}).time == 1704067200000
    for bad in (
        {"class_uid": "4001", "time": 1},
        {"class_uid": True, "time": 1},
        {"class_uid": 4001, "time": None},
        {"class_uid": 4001, "time": "soon"},
    ):
        with pytest.raises(RecordError):
            norm(bad)


def test_windows_shape_detection() -> None:
    assert is_windows_shaped({"EventID": 4624, "Channel": "Security"})
    assert is_windows_shaped({"EventID": 1, "Hostname": "ws1"})
    assert is_windows_shaped({"winlog": {"event_id": 4688, "channel": "Security"}})
    assert not is_windows_shaped({"EventID": 4624})
    assert not is_windows_shaped({"winlog": "x"})


@needs_windows
def test_windows_objects_go_to_the_windows_normalizer() -> None:
    from garrison.normalize.windows import normalize_windows_dict

    obj = {
        "EventID": 4625,
        "Channel": "security",
        "Hostname": "WS1.corp.local",
        "TimeCreated": "2020-10-19T12:28:44.333Z",
        "TargetUserName": "alice",
        "IpAddress": "10.0.0.5",
        "SourceName": "Microsoft-Windows-Security-Auditing",
    }
    n = norm(obj)
    expected = normalize_windows_dict(dict(obj))
    assert (n.class_uid, n.time, n.fields) == (expected.class_uid, expected.time, expected.fields)
    assert n.fields.get("EventID") == 4625


def test_ecs_authentication_and_process() -> None:
    auth = norm(
        {
            "@timestamp": "2024-01-01T00:00:00Z",
            "event": {"category": "authentication", "outcome": "success"},
            "user": {"name": "a"},
            "source": {"ip": "1.2.3.4"},
            "host": {"name": "h1"},
        }
    ).ocsf
    assert (
        auth["class_uid"],
        auth["status"],
        auth["user"]["name"],
        auth["actor"]["user"]["name"],
        auth["src_endpoint"]["ip"],
        auth["device"]["hostname"],
    ) == (3002, "Success", "a", "a", "1.2.3.4", "h1")
    proc = norm(
        {
            "@timestamp": 1,
            "ecs": {},
            "event": {"category": ["process"]},
            "process": {"command_line": "cmd /c whoami", "pid": "42"},
        }
    ).ocsf
    assert proc["class_uid"] == 1007 and proc["process"] == {"cmd_line": "cmd /c whoami", "pid": 42}


def test_api_activity_shapes() -> None:
    trail = norm(
        {
            "eventTime": "2024-01-01T00:00:00Z",
            "eventSource": "iam.amazonaws.com",
            "eventName": "DeleteUser",
            "sourceIPAddress": "AWS Internal",
            "userIdentity": {"userName": "x"},
        }
    ).ocsf
    assert (
        trail["class_uid"],
        trail["activity_id"],
        trail["api"]["operation"],
        trail["actor"]["user"]["name"],
    ) == (6003, 4, "DeleteUser", "x")
    assert trail["src_endpoint"] == {"hostname": "AWS Internal"}  # not an IP: not in .ip
    azure = norm(
        {
            "time": "2024-01-01T00:00:00Z",
            "operationName": {"value": "Microsoft.Compute/virtualMachines/write"},
            "caller": "u@x",
            "callerIpAddress": "1.1.1.1",
            "resultType": "Failed",
        }
    ).ocsf
    assert (azure["api"]["operation"], azure["status"], azure["activity_id"]) == (
        "Microsoft.Compute/virtualMachines/write",
        "Failure",
        99,
    )
    model = norm(
        {"ts": 1, "operation": "embeddings.create", "actor": {"id": "k1"}, "status": "ok"}
    ).ocsf
    assert (
        model["class_uid"],
        model["actor"]["user"]["name"],
        model["status"],
        model["activity_id"],
    ) == (6003, "k1", "Success", 1)


def test_generic_object_is_base_event_with_fields() -> None:
    n = norm({"a": {"b": {"c": 1}}, "l": [{"x": 1}], "time": 1700000000})
    assert n.class_uid == 0 and n.time == 1700000000000
    assert n.fields == {"a": {"b": {"c": 1}}, "a.b.c": 1, "l": [{"x": 1}], "time": 1700000000}
    assert n.ocsf["unmapped"]["a"] == {"b": {"c": 1}}


def test_time_rules() -> None:
    assert pick_time({}) == (0, {"time_missing": True})
    assert pick_time({"ts": "bad", "EventTime": "2024-01-01 00:00:00"}) == (1704067200000, {})
    assert pick_time({"ts": "bad"}) == (0, {"time_invalid": "bad"})
    assert pick_time({"timestamp": 1700000000123}) == (1700000000123, {})
    assert norm({"x": 1}).ocsf["metadata"]["time_missing"] is True


def test_flatten_caps() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(70):
        node["k"] = {}
        node = node["k"]
    with pytest.raises(RecordError, match="deeper"):
        flatten(deep)
    with pytest.raises(RecordError, match="keys"):
        flatten({"a": {str(i): i for i in range(MAX_KEYS + 1)}})


def test_non_dict_data_is_a_record_error() -> None:
    with pytest.raises(RecordError):
        normalize_jsonl(RawRecord(1, [1, 2], "[1, 2]"))
