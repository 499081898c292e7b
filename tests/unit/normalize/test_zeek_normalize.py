"""Zeek normalizer: classes per path, relative timestamps, labels never reach fields."""

from __future__ import annotations

from typing import Any

import pytest

from garrison.core.errors import RecordError
from garrison.core.events import RawRecord
from garrison.normalize.zeek import normalize_zeek


def rec(data: dict[str, Any], path: str | None = None) -> RawRecord:
    return RawRecord(1, data, "raw", {"path": path} if path else {})


BASE = {
    "ts": 1700000000.5,
    "uid": "C1",
    "id.orig_h": "10.0.0.1",
    "id.orig_p": 5000,
    "id.resp_h": "10.0.0.2",
    "id.resp_p": 443,
}


@pytest.mark.parametrize(
    ("path", "extra", "class_uid"),
    [
        ("conn", {"proto": "tcp", "orig_bytes": 1}, 4001),
        (
            "dns",
            {"query": "a.example", "qtype_name": "A", "rcode": 3, "rcode_name": "NXDOMAIN"},
            4003,
        ),
        ("http", {"method": "GET", "host": "h", "uri": "/p?q=1", "status_code": 404}, 4002),
        ("ssl", {"server_name": "sni.example", "version": "TLSv13"}, 4001),
        ("ssh", {"auth_success": False, "client": "SSH-2.0-x"}, 4007),
        ("weird", {"name": "bad_TCP_checksum"}, 0),
        ("known_hosts", {}, 0),
    ],
)
def test_classes(path: str, extra: dict[str, Any], class_uid: int) -> None:
    norm = normalize_zeek(rec({**BASE, **extra}, path))
    assert norm.class_uid == class_uid == norm.ocsf["class_uid"]
    assert norm.time == 1700000000500 == norm.ocsf["time"]
    assert norm.ocsf["src_endpoint"] == {"ip": "10.0.0.1", "port": 5000}
    assert norm.ocsf["metadata"]["log_name"] == path
    assert norm.fields["id.orig_h"] == "10.0.0.1"


def test_mapped_attributes() -> None:
    http = normalize_zeek(
        rec(
            {
                **BASE,
                "method": "POST",
                "host": "c2.example",
                "uri": "/g?x=1",
                "user_agent": "UA",
                "referrer": "r",
                "status_code": 200,
            },
            "http",
        )
    ).ocsf
    assert http["activity_id"] == 6
    assert http["http_request"]["url"] == {
        "hostname": "c2.example",
        "path": "/g",
        "query_string": "x=1",
        "port": 443,
        "url_string": "http://c2.example/g?x=1",
    }
    assert http["http_request"]["user_agent"] == "UA" and http["http_response"]["code"] == 200
    ssl = normalize_zeek(rec({**BASE, "server_name": "sni.example"}, "ssl")).ocsf
    assert ssl["tls"]["sni"] == "sni.example"
    ssh = normalize_zeek(rec({**BASE, "auth_success": True}, "ssh")).ocsf
    assert (ssh["status"], ssh["activity_id"], ssh["unmapped"]["auth_success"]) == (
        "Success",
        1,
        True,
    )
    conn = normalize_zeek(
        rec(
            {
                **BASE,
                "duration": 1.2345,
                "orig_bytes": 10,
                "resp_bytes": 20,
                "service": "ssl",
                "proto": "tcp",
            },
            "conn",
        )
    ).ocsf
    assert (
        conn["duration"],
        conn["traffic"]["bytes_out"],
        conn["traffic"]["bytes_in"],
        conn["app_name"],
        conn["connection_info"]["protocol_name"],
    ) == (1234, 10, 20, "ssl", "tcp")


def test_relative_and_odd_timestamps_are_kept() -> None:
    assert normalize_zeek(rec({"ts": 19.981745, "uid": "C"}, "conn")).time == 19981
    assert normalize_zeek(rec({"ts": 0, "uid": "C"}, "conn")).time == 0
    assert normalize_zeek(rec({"ts": "2024-01-01T00:00:00Z"}, "conn")).time == 1704067200000


@pytest.mark.parametrize("data", [{"uid": "C"}, {"ts": "never"}, {"ts": True}, {"ts": None}])
def test_bad_time_is_a_record_error(data: dict[str, Any]) -> None:
    with pytest.raises(RecordError):
        normalize_zeek(rec(data, "conn"))


def test_labels_never_in_fields_or_ocsf() -> None:
    norm = normalize_zeek(rec({**BASE, "label": "Malicious", "detailedlabel": "x"}, "conn"))
    assert "label" not in norm.fields and "detailedlabel" not in norm.fields
    assert "Malicious" not in repr(norm.ocsf)


def test_path_inferred_when_meta_lacks_it() -> None:
    assert normalize_zeek(rec({**BASE, "query": "x", "rcode": 0})).class_uid == 4003


def test_non_ip_address_goes_to_hostname() -> None:
    norm = normalize_zeek(rec({"ts": 1, "id.orig_h": "not-an-ip", "id.orig_p": 70000}, "conn"))
    assert norm.ocsf["src_endpoint"] == {"hostname": "not-an-ip"}
