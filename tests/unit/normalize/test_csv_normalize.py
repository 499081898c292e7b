"""CSV normalizer: class from the header, host/IP placement, user@domain, time rules."""

from __future__ import annotations

from garrison.core.events import RawRecord
from garrison.normalize.base import Normalized
from garrison.normalize.csvfile import classify, normalize_csv


def norm(row: dict[str, str]) -> Normalized:
    return normalize_csv(RawRecord(2, row, ",".join(row.values())))


def test_classify() -> None:
    assert classify(("time", "user", "src", "dst")).class_uid == 3002
    assert classify(("tstamp", "userdomain", "src", "dst", "usr")).class_uid == 3002
    assert classify(("time", "src_ip", "dst_ip")).class_uid == 4001
    assert classify(("Time", "Source IP", "Destination Port")).class_uid == 4001
    assert classify(("time", "user", "src_ip", "auth_type")).class_uid == 3002
    assert classify(("time", "user", "url")).class_uid == 0


def test_lanl_style_row() -> None:
    n = norm(
        {
            "_index": "0",
            "tstamp": "768556",
            "userdomain": "U66@DOM1",
            "src": "C17693",
            "dst": "C306",
            "usr": "U66",
        }
    )
    o = n.ocsf
    assert (n.class_uid, n.time) == (3002, 768556000)
    assert o["user"] == {"name": "U66", "domain": "DOM1"} == o["actor"]["user"]
    assert o["src_endpoint"] == {"hostname": "C17693"}
    assert o["dst_endpoint"] == {"hostname": "C306"} and o["device"] == {"hostname": "C306"}
    assert n.fields["userdomain"] == "U66@DOM1"


def test_status_and_ip_hosts() -> None:
    o = norm(
        {
            "time": "2024-01-01T00:00:00Z",
            "user": "CORP\\bob",
            "src": "10.0.0.1",
            "dst": "dc1",
            "auth_type": "NTLM",
            "success/failure": "Fail",
        }
    ).ocsf
    assert o["user"] == {"name": "bob", "domain": "CORP"} and o["status"] == "Failure"
    assert o["src_endpoint"] == {"ip": "10.0.0.1"}


def test_network_row() -> None:
    o = norm(
        {
            "ts": "1700000000",
            "src_ip": "1.1.1.1",
            "sport": "5",
            "dst_ip": "2.2.2.2",
            "dport": "99999",
            "proto": "tcp",
            "src_bytes": "10",
        }
    ).ocsf
    assert o["src_endpoint"] == {"ip": "1.1.1.1", "port": 5}
    assert o["dst_endpoint"] == {"ip": "2.2.2.2"}  # 99999 is no port
    assert o["traffic"] == {"bytes_out": 10}


def test_time_missing_and_invalid() -> None:
    assert norm({"a": "1", "b": "2"}).ocsf["metadata"]["time_missing"] is True
    assert norm({"time": "", "b": "2"}).ocsf["metadata"]["time_missing"] is True
    bad = norm({"time": "noon", "b": "2"})
    assert bad.time == 0 and bad.ocsf["metadata"]["time_invalid"] == "noon"
    assert bad.ocsf["unmapped"] == {"time": "noon", "b": "2"}
