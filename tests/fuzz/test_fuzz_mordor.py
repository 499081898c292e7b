"""Fuzz: Mordor/OTRF zips through the source and the normalizer, and Windows-shaped dicts
through ``normalize_windows_dict`` (10,000 cases each, ``GARRISON_FUZZ_CASES``).

Zips hold one to three members of JSON lines built from the keys that steer the Windows
mapping (EventID, Channel, NXLog metadata, times, Sysmon/Security data) with hostile
values, plus broken lines, non-objects, invalid UTF-8, blank lines, binary members, stored
and deflated members, and truncated or byte-damaged archives. One hypothesis-drawn seed per
case (a failure prints it). Nothing may escape but RawRecord / Quarantined with a reason,
and Normalized / RecordError.
"""

from __future__ import annotations

import io
import json
import os
import random
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.core.errors import RecordError
from garrison.core.events import Quarantined, RawRecord
from garrison.ingest.mordor import MordorSource
from garrison.normalize.base import Normalized
from garrison.normalize.mordor import normalize_mordor
from garrison.normalize.windows import normalize_windows_dict

CASES = int(os.environ.get("GARRISON_FUZZ_CASES", "10000"))
SETTINGS = settings(
    max_examples=CASES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
SEEDS = st.integers(min_value=0, max_value=2**64 - 1)

KEYS = [
    "EventID",
    "Channel",
    "Hostname",
    "SourceName",
    "ProviderName",
    "ProviderGuid",
    "TimeCreated",
    "UtcTime",
    "EventTime",
    "@timestamp",
    "EventReceivedTime",
    "SourceModuleType",
    "SourceModuleName",
    "host",
    "Message",
    "EventType",
    "EventTypeOrignal",
    "Keywords",
    "Level",
    "Task",
    "Opcode",
    "OpcodeValue",
    "RecordNumber",
    "ExecutionProcessID",
    "ThreadID",
    "UserID",
    "SeverityValue",
    "ProcessId",
    "ProcessID",
    "Image",
    "CommandLine",
    "ParentImage",
    "Hashes",
    "User",
    "TargetUserName",
    "SubjectUserName",
    "LogonType",
    "IpAddress",
    "IpPort",
    "Status",
    "SourceIp",
    "DestinationIp",
    "SourcePort",
    "DestinationPort",
    "Initiated",
    "QueryName",
    "QueryResults",
    "QueryStatus",
    "TargetFilename",
    "NewProcessId",
    "Direction",
    "Protocol",
    "Application",
    "Data",
    "Event",
    "System",
    "winlog",
    "event_id",
    "event_data",
    "channel",
    "Source Name",
    "",
    "#text",
    "#attributes",
]
SCALARS: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    3,
    11,
    13,
    22,
    4624,
    4625,
    4688,
    4768,
    4776,
    5156,
    2**63,
    -(2**63),
    10**30,
    1.5,
    float("inf"),
    "",
    "-",
    "x",
    "0x0",
    "0xFFFFFFFF",
    "0x",
    "12345",
    "Security",
    "security",
    "Microsoft-Windows-Sysmon/Operational",
    "Windows PowerShell",
    "Microsoft-Windows-Sysmon",
    "Microsoft-Windows-Security-Auditing",
    "im_msvistalog",
    "INFO",
    "AUDIT_SUCCESS",
    "SetValue",
    "2020-10-19 12:28:44.333",
    "2020-09-22T18:53:04Z",
    "2020-10-19T04:28:31.089Z",
    "1601-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2020-13-45 99:99:99",
    "1603110524",
    "10.0.0.1",
    "::ffff:10.0.0.1",
    "not-an-ip",
    "SHA1=AB,MD5=CD,SHA256=EF,IMPHASH=01",
    "=,=,",
    "type:  5 a.example;::ffff:1.2.3.4;",
    "%%14593",
    "CORP\\alice",
    "\\",
    "\u2028",
    "\x00",
    "EventType: DeleteKey",
    "é" * 3,
]


def value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.randrange(10 if depth < 4 else 6)
    if roll < 7:
        return rng.choice(SCALARS)
    if roll < 9:
        return {rng.choice(KEYS): value(rng, depth + 1) for _ in range(rng.randrange(5))}
    return [value(rng, depth + 1) for _ in range(rng.randrange(3))]


def windows_dict(rng: random.Random) -> dict[str, Any]:
    obj = {rng.choice(KEYS): value(rng) for _ in range(rng.randrange(0, 14))}
    if rng.random() < 0.7:
        obj["EventID"] = rng.choice(
            [
                1,
                3,
                11,
                12,
                13,
                22,
                23,
                26,
                800,
                4624,
                4625,
                4634,
                4647,
                4648,
                4672,
                4688,
                4768,
                4769,
                4771,
                4776,
                5156,
                "4624",
                "x",
                None,
                -5,
                2**40,
            ]
        )
    if rng.random() < 0.6:
        obj[rng.choice(["TimeCreated", "UtcTime", "EventTime", "@timestamp"])] = rng.choice(
            SCALARS[36:44]
        )
    return obj


def line(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.75:
        text = json.dumps(windows_dict(rng), ensure_ascii=rng.random() < 0.5)
        return text.encode("utf-8", "surrogatepass")
    return rng.choice(
        [
            b"",
            b"   ",
            b"{",
            b"[1, 2]",
            b"null",
            b'"s"',
            b'{"a": NaN}',
            b"\xff\xfe{}",
            b'{"s": "\\ud800"}',
            b"{}",
            b"[" * 500 + b"]" * 500,
            rng.randbytes(rng.randrange(1, 40)),
        ]
    )


def archive(rng: random.Random) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(rng.randint(1, 3)):
            if rng.random() < 0.1:
                body = rng.randbytes(rng.randrange(1, 3000))
            else:
                body = b"\n".join(line(rng) for _ in range(rng.randrange(0, 8)))
            method = rng.choice([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
            zf.writestr(zipfile.ZipInfo(f"m{i}.json"), body, compress_type=method)
    data = bytearray(buf.getvalue())
    roll = rng.random()
    if roll < 0.1:  # truncated download
        del data[rng.randrange(len(data)) :]
    elif roll < 0.2:  # damaged bytes
        for _ in range(rng.randint(1, 5)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def check_normalized(norm: Normalized) -> None:
    assert isinstance(norm.time, int) and isinstance(norm.fields, dict)
    assert norm.ocsf["class_uid"] == norm.class_uid
    json.dumps(norm.ocsf, default=str).encode("utf-8")
    json.dumps(norm.fields, default=str).encode("utf-8")


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-mordor") / "x.zip"


@SETTINGS
@given(seed=SEEDS)
def test_fuzz_mordor_zip(seed: int, work: Path) -> None:
    rng = random.Random(seed)
    work.write_bytes(archive(rng))
    for item in MordorSource().read(work):
        assert isinstance(item, RawRecord | Quarantined)
        if isinstance(item, Quarantined):
            assert item.reason and item.source_format == "mordor"
            continue
        assert isinstance(item.data, dict) and item.position >= 1
        try:
            norm = normalize_mordor(item)
        except RecordError as exc:
            assert str(exc)
        else:
            check_normalized(norm)


@SETTINGS
@given(seed=SEEDS)
def test_fuzz_normalize_windows_dict(seed: int) -> None:
    obj = windows_dict(random.Random(seed))
    try:
        norm = normalize_windows_dict(obj)
    except RecordError as exc:
        assert str(exc)
    else:
        check_normalized(norm)
