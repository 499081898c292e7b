"""The generated files are in their real formats (checked by shape, not by our own parser)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime

from demo_support import SmallDemo

from garrison.demo.netflow import CONN_FIELDS, DNS_FIELDS

AUTH = "logs/linux/auth.log"
CONN = "logs/zeek/conn.log"
DNS = "logs/zeek/dns.log"
WIN = "logs/windows/events.jsonl"
AUTH_LINE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00) (?P<host>[a-z0-9-]+) "
    r"(?P<prog>[A-Za-z-]+)(\[(?P<pid>\d+)\])?: (?P<msg>.+)$"
)
SSHD = re.compile(
    r"^(Accepted (publickey|password) for \S+ from [\d.]+ port \d+ ssh2(: ED25519 SHA256:\S+)?"
    r"|Failed password for (invalid user )?\S+ from [\d.]+ port \d+ ssh2"
    r"|Invalid user \S+ from [\d.]+ port \d+"
    r"|Connection closed by ((authenticating|invalid) user \S+ )?[\d.]+ port \d+ \[preauth\]"
    r"|Received disconnect from [\d.]+ port \d+:11: disconnected by user"
    r"|Disconnected from user \S+ [\d.]+ port \d+"
    r"|pam_unix\(sshd:(session|auth)\): .+)$"
)


def _zeek_rows(
    demo: SmallDemo, rel: str, fields: tuple[tuple[str, str], ...]
) -> list[dict[str, str]]:
    lines = demo.lines(rel)
    path = rel.rsplit("/", 1)[-1].split(".")[0]
    assert lines[:6] == [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        f"#path\t{path}",
        "#open\t2025-03-02-00-00-00",
    ]
    names = lines[6].split("\t")
    assert names[0] == "#fields" and names[1:] == [n for n, _ in fields]
    assert lines[7].split("\t")[1:] == [t for _, t in fields]
    assert lines[-1] == "#close\t2025-03-05-00-00-00"
    rows = []
    for line in lines[8:-1]:
        values = line.split("\t")
        assert len(values) == len(fields), line
        rows.append(dict(zip(names[1:], values, strict=True)))
    return rows


def test_zeek_conn_log_is_zeek_tsv(small_demo: SmallDemo) -> None:
    rows = _zeek_rows(small_demo, CONN, CONN_FIELDS)
    assert len(rows) > 1000
    last = 0.0
    for row in rows:
        ts = float(row["ts"])
        assert ts >= last
        last = ts
        assert re.fullmatch(r"C[A-Za-z0-9]{17}", row["uid"])
        assert 0 < int(row["id.orig_p"]) < 65536 and 0 < int(row["id.resp_p"]) < 65536
        assert row["proto"] in ("tcp", "udp")
        assert row["local_orig"] in ("T", "F") and row["local_resp"] in ("T", "F")
        assert int(row["orig_ip_bytes"]) >= int(row["orig_bytes"])
        assert row["duration"] == "-" or float(row["duration"]) >= 0
        assert row["tunnel_parents"] == "(empty)"
    services = {r["service"] for r in rows}
    assert {"dns", "ssl", "ssh", "ntp", "ldap"} <= services


def test_zeek_dns_log_is_zeek_tsv_and_joins_conn_by_uid(small_demo: SmallDemo) -> None:
    rows = _zeek_rows(small_demo, DNS, DNS_FIELDS)
    conn_uids = {r["uid"]: r for r in _zeek_rows(small_demo, CONN, CONN_FIELDS)}
    rcodes = set()
    for row in rows:
        assert row["uid"] in conn_uids and conn_uids[row["uid"]]["id.resp_p"] == "53"
        assert row["rcode_name"] in ("NOERROR", "NXDOMAIN")
        rcodes.add(row["rcode_name"])
        assert row["qclass_name"] == "C_INTERNET"
        if row["rcode_name"] == "NXDOMAIN":
            assert row["answers"] == "-" and row["TTLs"] == "-"
        else:
            assert len(row["answers"].split(",")) == len(row["TTLs"].split(","))
    assert rcodes == {"NOERROR", "NXDOMAIN"}
    assert any(r["query"].endswith(".cloudfront.net") for r in rows)
    assert any(".edgekey.net," in r["answers"] for r in rows)


def test_auth_log_lines_are_syslog_with_rfc3339_times(small_demo: SmallDemo) -> None:
    lines = small_demo.lines(AUTH)
    programs = defaultdict(int)
    last = ""
    for line in lines:
        m = AUTH_LINE.match(line)
        assert m, line
        assert m["ts"] >= last
        last = m["ts"]
        datetime.fromisoformat(m["ts"])
        programs[m["prog"]] += 1
        if m["prog"] == "sshd":
            assert SSHD.match(m["msg"]), m["msg"]
        if m["prog"] == "sudo":
            assert m["pid"] is None
            assert re.fullmatch(
                r" *\S+ : TTY=\S+ ; PWD=\S+ ; USER=root ; COMMAND=.+"
                r"|pam_unix\(sudo:(auth|session)\): .+",
                m["msg"],
            ), m["msg"]
    assert set(programs) == {"sshd", "sudo", "CRON", "systemd-logind"}


def test_windows_events_are_flat_windows_shaped_json(small_demo: SmallDemo) -> None:
    seen = defaultdict(int)
    record_ids: dict[tuple[str, str], int] = {}
    last = ""
    required = {
        1: (
            "Image",
            "CommandLine",
            "ParentImage",
            "User",
            "Hashes",
            "ProcessId",
            "ParentProcessId",
            "ProcessGuid",
            "OriginalFileName",
            "IntegrityLevel",
        ),
        4624: (
            "TargetUserName",
            "IpAddress",
            "LogonType",
            "WorkstationName",
            "AuthenticationPackageName",
            "TargetDomainName",
        ),
        4625: (
            "TargetUserName",
            "IpAddress",
            "LogonType",
            "WorkstationName",
            "Status",
            "SubStatus",
        ),
        4648: ("SubjectUserName", "TargetUserName", "TargetServerName", "ProcessName"),
    }
    for line in small_demo.lines(WIN):
        event = json.loads(line)
        for key in (
            "EventID",
            "Channel",
            "Computer",
            "TimeCreated",
            "EventRecordID",
            "Provider_Name",
        ):
            assert key in event
        assert isinstance(event["EventID"], int) and isinstance(event["EventRecordID"], int)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", event["TimeCreated"])
        assert event["TimeCreated"] >= last
        last = event["TimeCreated"]
        key = (event["Computer"], event["Channel"])
        assert event["EventRecordID"] > record_ids.get(key, 0)
        record_ids[key] = event["EventRecordID"]
        for name in required.get(event["EventID"], ()):
            assert name in event, (event["EventID"], name)
        if event["EventID"] == 1:
            assert event["Channel"] == "Microsoft-Windows-Sysmon/Operational"
            assert re.fullmatch(
                r"SHA1=[0-9A-F]{40},MD5=[0-9A-F]{32},SHA256=[0-9A-F]{64},"
                r"IMPHASH=[0-9A-F]{32}",
                event["Hashes"],
            )
        if event["EventID"] in (4624, 4625, 4648):
            assert event["Channel"] == "Security"
        seen[(event["Channel"], event["EventID"])] += 1
    assert seen[("Microsoft-Windows-Sysmon/Operational", 1)] > 300
    for eid in (4624, 4625, 4648):
        assert seen[("Security", eid)] > 0, eid
    assert seen[("System", 7045)] > 0
