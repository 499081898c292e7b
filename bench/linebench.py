"""Throughput of the line formats: our source + normalizer against bare parsing.

``measure_files(paths)`` (or ``python bench/linebench.py FILE...``, which prints JSON) sniffs
each file, times (1) ``Source.read`` + the format's normalizer over every record and (2) the
cheapest honest baseline for that format — ``csv.reader`` (tab, ``#`` lines skipped) for Zeek TSV,
``json.loads`` per line for Zeek JSON and JSON lines, ``str.split`` of the header for syslog,
``csv.reader`` for CSV — and reports records/s, MB/s and the ratio. ``duckdb_zeek_seconds``
times DuckDB's ``read_csv`` over a Zeek TSV file for a columnar comparison.

The ratio says what our guarantees cost (typed cells, quarantine, OCSF objects, flat
fields) over merely splitting lines; it is not a claim that the baselines do the same work.
"""

from __future__ import annotations

import contextlib
import csv
import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from garrison.ingest.sniff import detect_format


@dataclass(slots=True)
class Throughput:
    format: str
    files: int
    records: int
    bytes: int
    seconds: float
    baseline: str
    baseline_seconds: float

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds else 0.0

    @property
    def slowdown(self) -> float:
        """How many times slower than the bare baseline (>= 1 means slower)."""
        return self.seconds / self.baseline_seconds if self.baseline_seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(
            records_per_s=round(self.records_per_s),
            mb_per_s=round(self.mb_per_s, 2),
            slowdown=round(self.slowdown, 2),
        )
        return out


def _ours(path: Path) -> tuple[str, int]:
    import garrison.normalize.builtin  # noqa: F401  (registers the normalizers)
    from garrison.core.errors import RecordError
    from garrison.core.events import RawRecord
    from garrison.normalize.base import NORMALIZERS

    cls = detect_format(path)
    if cls is None:
        return "unknown", 0
    normalize = NORMALIZERS.get(cls.format)
    count = 0
    for item in cls().read(path):
        count += 1
        if isinstance(item, RawRecord):
            with contextlib.suppress(RecordError):
                normalize(item)
    return cls.format, count


def _baseline(path: Path, fmt: str) -> str:
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        if fmt == "zeek" and fh.read(1) == "#":
            fh.seek(0)
            for _row in csv.reader(
                (ln for ln in fh if not ln.startswith("#")), delimiter="\t", quoting=csv.QUOTE_NONE
            ):
                pass
            return "csv.reader (tab)"
        fh.seek(0)
        if fmt in ("zeek", "jsonl"):
            for line in fh:
                if line.strip():
                    json.loads(line)
            return "json.loads per line"
        if fmt == "syslog":
            for line in fh:
                line.split(" ", 5)
            return "str.split per line"
        for _row in csv.reader(fh):
            pass
        return "csv.reader"


def measure_files(paths: Iterable[Path]) -> dict[str, Throughput]:
    """Per-format throughput over ``paths`` (files no source recognises are skipped)."""
    results: dict[str, Throughput] = {}
    for path in paths:
        start = time.perf_counter()
        fmt, records = _ours(path)
        ours = time.perf_counter() - start
        if fmt == "unknown":
            continue
        start = time.perf_counter()
        baseline = _baseline(path, fmt)
        bare = time.perf_counter() - start
        acc = results.setdefault(fmt, Throughput(fmt, 0, 0, 0, 0.0, baseline, 0.0))
        acc.files += 1
        acc.records += records
        acc.bytes += path.stat().st_size
        acc.seconds += ours
        acc.baseline_seconds += bare
    return results


def duckdb_zeek_seconds(path: Path) -> tuple[int, float]:
    """(rows, seconds) for DuckDB ``read_csv`` over one Zeek TSV file (``#`` lines skipped,
    column names from ``#fields``)."""
    import duckdb

    with path.open(encoding="utf-8", errors="replace") as fh:
        fields = next(
            (ln.rstrip("\n").split("\t")[1:] for ln in fh if ln.startswith("#fields")), None
        )
    if not fields:
        raise ValueError(f"{path} has no #fields header")
    start = time.perf_counter()
    con = duckdb.connect()
    names = ", ".join("'" + f.replace("'", "''") + "'" for f in fields)
    query = (
        f"SELECT count(*) FROM read_csv(?, delim='\\t', header=false, comment='#', "  # noqa: S608 - Zeek field names quoted with '' doubling
        f"names=[{names}], all_varchar=true, quote='', escape='')"
    )
    row = con.execute(query, [str(path)]).fetchone()
    con.close()
    return int(row[0]) if row else 0, time.perf_counter() - start


def main(argv: list[str]) -> None:
    """Print per-format throughput for the files named on the command line as JSON."""
    results = measure_files(Path(a) for a in argv)
    print(json.dumps({fmt: t.to_json() for fmt, t in results.items()}, indent=2))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
