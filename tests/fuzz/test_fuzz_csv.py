"""Fuzz: CSV through the source and the normalizer (10,000 cases).

Files are a header (names that steer the mapping: time/user/src/dst/src_ip ... and label
columns) then rows with quoted cells, embedded delimiters, quotes, newlines, wrong cell
counts and byte mutations; one hypothesis-drawn seed per case (a failure prints the seed).
Nothing escapes but RawRecord / Quarantined and Normalized / RecordError, positions never
go back, and every row that holds a non-blank line is accounted for.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.core.events import Quarantined
from garrison.ingest.csvfile import CsvSource
from garrison.normalize.csvfile import normalize_csv
from tests.fuzz._shared import check_records, insert_or_delete

CASES = int(os.environ.get("GARRISON_FUZZ_CASES", "10000"))
SETTINGS = settings(
    max_examples=CASES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
SEEDS = st.integers(min_value=0, max_value=2**64 - 1)

NAMES = [
    "time",
    "tstamp",
    "user",
    "userdomain",
    "src",
    "dst",
    "src_ip",
    "dst_ip",
    "sport",
    "dport",
    "proto",
    "auth_type",
    "success/failure",
    "label",
    "redteam",
    "",
    "id",
    "Source IP",
    "bytes_out",
    "x",
]
CELLS = [
    "",
    "1",
    "1700000000",
    "2024-01-01T00:00:00Z",
    "noon",
    "U1@DOM1",
    "CORP\\bob",
    "10.0.0.1",
    "C123",
    "99999",
    "-1",
    "Fail",
    "Success",
    '"quoted, cell"',
    '"multi\nline"',
    '"bad "quote',
    '"""',
    "é",
    "\\xff",
    "a;b",
    "a|b",
    "1e400",
    "nan",
]


JUNK = [b'"', b",", b"\n", b"\r", b"\xff", b"\x00", b";"]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-csv") / "x.csv"


@SETTINGS
@given(seed=SEEDS)
def test_fuzz_csv(seed: int, work: Path) -> None:
    rng = random.Random(seed)
    delim = rng.choice([",", ",", ";", "\t", "|"])
    width = rng.randrange(1, 7)
    lines = [delim.join(rng.choice(NAMES) for _ in range(width))]
    for _ in range(rng.randrange(0, 6)):
        n = max(0, width + rng.choice((0, 0, 0, 0, -1, 1)))
        lines.append(delim.join(rng.choice(CELLS) for _ in range(n)))
    data = insert_or_delete(rng, "\n".join(lines).encode(), (0, 0, 0, 1, 3), JUNK)
    work.write_bytes(data)
    items = list(CsvSource().read(work))
    for norm in check_records(items, normalize_csv):
        assert not {"label", "redteam"} & set(norm.fields)
    # accounting: items start on non-blank lines; without quotes (no multi-line cells)
    # every non-blank line but a valid header is exactly one item
    non_blank = [
        i
        for i, raw in enumerate(data.split(b"\n"), start=1)
        if raw.removesuffix(b"\r").decode("utf-8", "replace").strip()
    ]
    assert {i.position for i in items} <= set(non_blank)
    if b'"' not in data and non_blank:
        headless = (
            bool(items)
            and isinstance(items[0], Quarantined)
            and (items[0].reason == "first row is not a CSV header")
        )
        assert len(items) == len(non_blank) - (0 if headless else 1)
