"""Fuzz: Zeek TSV and Zeek JSON through the source and the normalizer (10,000 cases each).

Each case is one small file built from a hypothesis-drawn seed: lines from a Zeek-like
grammar (headers, typed cells, escapes, markers, rotated blocks, label columns) that are
then mutated (bytes inserted, deleted, replaced; lines cut, duplicated). Drawing one seed
per case keeps 10,000 cases within a few seconds; a failure prints the seed, which
reproduces it exactly. Whatever the file holds, nothing escapes ``read`` + normalizer but
RawRecord / Quarantined (reason and position set) and Normalized / RecordError, positions
increase, every non-blank data line is accounted for, and what comes out is storable.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.ingest.zeek import ZeekSource
from garrison.normalize.zeek import normalize_zeek
from tests.fuzz._shared import check_records

CASES = int(os.environ.get("GARRISON_FUZZ_CASES", "10000"))
SETTINGS = settings(
    max_examples=CASES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
SEEDS = st.integers(min_value=0, max_value=2**64 - 1)

TYPES = [
    "time",
    "string",
    "addr",
    "port",
    "count",
    "int",
    "interval",
    "double",
    "bool",
    "enum",
    "set[string]",
    "vector[count]",
    "vector[interval]",
    "set[addr]",
    "x][",
]
NAMES = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "query",
    "method",
    "host",
    "uri",
    "server_name",
    "auth_success",
    "duration",
    "orig_bytes",
    "answers",
    "TTLs",
    "label",
    "detailedlabel",
    "conn_state",
    "rcode",
    "qtype_name",
]
CELLS = [
    "-",
    "(empty)",
    "T",
    "F",
    "0",
    "-1",
    "1.5",
    "nan",
    "inf",
    "1e400",
    "19.98",
    "1700000000.123456",
    "10.0.0.1",
    "::1",
    "a,b",
    "\\x09",
    "\\x2d",
    "\\x28empty)",
    "\\xZZ",
    "99999999999999999999999",
    "",
    "\\",
    "é",
    "\u2028",
    "GET",
    "/x?y=1",
]
JUNK = ["\x00", "\t", "\r", "\n", "#", "{", "}", '"', "\\", "\xff", "é", "\ud800", "-"]


def mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((0, 0, 1, 2, 5))):
        op = rng.randrange(4)
        pos = rng.randrange(len(buf) + 1)
        if op == 0:
            buf[pos:pos] = rng.choice(JUNK).encode("utf-8", "surrogatepass")
        elif op == 1 and buf:
            del buf[pos : pos + rng.randrange(1, 8)]
        elif op == 2 and buf:
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        else:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 6)))
    return bytes(buf)


def tsv_file(rng: random.Random) -> bytes:
    lines: list[str] = []
    for _ in range(rng.randrange(1, 3)):
        n = rng.randrange(1, 9)
        fields = [rng.choice(NAMES) for _ in range(n)]
        lines += [
            rng.choice(
                [
                    "#separator \\x09",
                    "#separator \\x09",
                    "#separator \\x2c",
                    "#separator",
                    "#separator \\x",
                ]
            ),
            "#set_separator\t" + rng.choice([",", "", "|"]),
            "#empty_field\t(empty)",
            "#unset_field\t" + rng.choice(["-", ""]),
            "#path\t" + rng.choice(["conn", "dns", "http", "ssl", "ssh", "weird", ""]),
            "#fields\t" + "\t".join(fields),
        ]
        if rng.random() < 0.8:
            lines.append("#types\t" + "\t".join(rng.choice(TYPES) for _ in range(n)))
        for _ in range(rng.randrange(0, 6)):
            width = max(0, n + rng.choice((0, 0, 0, 0, -1, 1)))
            lines.append("\t".join(rng.choice(CELLS) for _ in range(width)))
        if rng.random() < 0.3:
            lines.append(rng.choice(["#close\t2024", "", "   "]))
    return mutate(rng, "\n".join(lines).encode("utf-8", "surrogatepass"))


def json_value(rng: random.Random, depth: int = 0) -> object:
    roll = rng.randrange(10 if depth < 3 else 7)
    if roll < 7:
        return rng.choice(
            [
                None,
                True,
                False,
                0,
                -1,
                2**70,
                1.5,
                1e308,
                "x",
                "10.0.0.1",
                "2024-01-01T00:00:00Z",
                "-",
                "",
                "\u2028",
                19.98,
                1700000000.5,
            ]
        )
    if roll < 9:
        return {
            rng.choice([*NAMES, "a", "_path"]): json_value(rng, depth + 1)
            for _ in range(rng.randrange(3))
        }
    return [json_value(rng, depth + 1) for _ in range(rng.randrange(3))]


def json_file(rng: random.Random) -> bytes:
    lines = [json.dumps({"ts": 1, "uid": "C", "id.orig_h": "1.2.3.4"})]
    for _ in range(rng.randrange(1, 6)):
        obj = {
            k: json_value(rng)
            for k in rng.sample([*NAMES, "_path", "id", "note"], rng.randrange(0, 8))
        }
        lines.append(
            json.dumps(obj)
            if rng.random() < 0.9
            else rng.choice(["[1]", "", "{", "null", '{"ts": NaN}', "#fields\tts"])
        )
    return mutate(rng, "\n".join(lines).encode())


def expected_items(data: bytes, tsv: bool) -> int:
    """Non-blank lines (TSV: that are not # lines): each must come back as one item."""
    count = 0
    for raw in data.split(b"\n"):
        raw = raw.removesuffix(b"\r")
        text = raw.decode("utf-8", "backslashreplace")
        if text.strip() and not (tsv and text.startswith("#")):
            count += 1
    return count


def check(path: Path, data: bytes, tsv: bool) -> None:
    path.write_bytes(data)
    items = list(ZeekSource().read(path))
    for norm in check_records(items, normalize_zeek):
        assert "label" not in norm.fields and "detailedlabel" not in norm.fields
    first = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if first in (b"#", b"{") and (first == b"#") == tsv:
        assert len(items) == expected_items(data.removeprefix(b"\xef\xbb\xbf"), tsv)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-zeek") / "input"


@SETTINGS
@given(seed=SEEDS)
def test_fuzz_zeek_tsv(seed: int, work: Path) -> None:
    check(work, tsv_file(random.Random(seed)), tsv=True)


@SETTINGS
@given(seed=SEEDS)
def test_fuzz_zeek_json(seed: int, work: Path) -> None:
    check(work, json_file(random.Random(seed)), tsv=False)
