"""Fuzz: JSON lines through the source and the normalizer (10,000 cases).

Objects are built from the keys that steer the mapping (OCSF, ECS, Windows-shaped,
CloudTrail/API, time keys) with hostile values, plus broken lines, scalars, arrays, deep
nesting, lone surrogate escapes, BOMs and byte mutations; one hypothesis-drawn seed per
case (a failure prints the seed). Nothing escapes but RawRecord / Quarantined and
Normalized / RecordError; every non-blank line is one item.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.ingest.jsonl import JsonLinesSource
from garrison.normalize.jsonl import normalize_jsonl
from tests.fuzz._shared import check_records, insert_or_delete

CASES = int(os.environ.get("GARRISON_FUZZ_CASES", "10000"))
SETTINGS = settings(
    max_examples=CASES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
SEEDS = st.integers(min_value=0, max_value=2**64 - 1)

KEYS = [
    "class_uid",
    "time",
    "timestamp",
    "@timestamp",
    "ts",
    "TimeCreated",
    "EventTime",
    "eventTime",
    "EventID",
    "Channel",
    "SourceName",
    "Hostname",
    "winlog",
    "event_id",
    "event",
    "ecs",
    "category",
    "outcome",
    "user",
    "name",
    "source",
    "ip",
    "port",
    "process",
    "command_line",
    "dns",
    "question",
    "url",
    "http",
    "eventName",
    "eventSource",
    "userIdentity",
    "api",
    "operation",
    "actor",
    "protoPayload",
    "methodName",
    "status",
    "errorCode",
    "operationName",
    "caller",
    "host",
    "message",
    "a.b",
    "",
    "é",
]
SCALARS = [
    None,
    True,
    False,
    0,
    -1,
    4624,
    2**63,
    -(2**63) - 1,
    10**30,
    1.5,
    1e308,
    -1e308,
    "",
    "x",
    "2024-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00",
    "1700000000",
    "authentication",
    "process",
    "network",
    "success",
    "failure",
    "Security",
    "10.0.0.1",
    "not-an-ip",
    "\u2028",
    "\x00",
    "CreateUser",
    "500",
]
LINES = [
    "",
    "  ",
    "[]",
    "[1, 2]",
    "1",
    '"s"',
    "null",
    "true",
    "{",
    "}",
    '{"a": NaN}',
    '{"a": -Infinity}',
    '{"s": "\\ud800"}',
    '{"s": "\\udfff\\ud800"}',
    "{}",
    "[" * 3000 + "]" * 3000,
    '{"a":' * 80 + "1" + "}" * 80,
]


def value(rng: random.Random, depth: int = 0) -> object:
    roll = rng.randrange(10 if depth < 4 else 6)
    if roll < 6:
        return rng.choice(SCALARS)
    if roll < 9:
        return {rng.choice(KEYS): value(rng, depth + 1) for _ in range(rng.randrange(4))}
    return [value(rng, depth + 1) for _ in range(rng.randrange(3))]


JUNK = [b"\xff", b"\r", b"\n", b"\x00", b'"', b"{", b"\xc3"]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-jsonl") / "x.jsonl"


@SETTINGS
@given(seed=SEEDS)
def test_fuzz_jsonl(seed: int, work: Path) -> None:
    rng = random.Random(seed)
    lines = []
    for _ in range(rng.randrange(1, 5)):
        if rng.random() < 0.85:
            obj = {rng.choice(KEYS): value(rng) for _ in range(rng.randrange(1, 8))}
            lines.append(json.dumps(obj, ensure_ascii=rng.random() < 0.5))
        else:
            lines.append(rng.choice(LINES))
    data = insert_or_delete(
        rng, "\n".join(lines).encode("utf-8", "surrogatepass"), (0, 0, 0, 1, 3), JUNK
    )
    if rng.random() < 0.05:
        data = b"\xef\xbb\xbf" + data
    work.write_bytes(data)
    items = list(JsonLinesSource().read(work))
    body = data.removeprefix(b"\xef\xbb\xbf")
    if not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        non_blank = [raw for raw in body.split(b"\n") if raw.decode("utf-8", "replace").strip()]
        assert len(items) == len(non_blank)
    check_records(items, normalize_jsonl, class_in_ocsf=False, json_default=str)
