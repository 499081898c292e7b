"""Ingest throughput and peak memory, side by side with the bare parser on the same files.

For each format (EVTX, Zeek TSV/JSON, JSON lines) it times, in fresh subprocesses (so peak
RSS is per measurement), the bare parser and Garrison's pipeline stage by stage:

* ``bare``      - the parser alone into Python dicts, the issue's ceiling: ``evtx``
                  records_json + json.loads; JSON lines: json.loads per line; Zeek:
                  ``parsezeeklogs`` (typed dicts: counts, times, sets, unset markers) when
                  installed (``pip install -e '.[bench]'``);
* ``bare-fast`` - a stricter ceiling: the same parse with orjson (what Garrison uses);
                  Zeek: header names zipped with the tab-split cells, no types (a tokenizer);
* ``read``      - ingestion proper (issue item 3): sniffing, reading with validation and
                  quarantine, provenance, batching, content fingerprints;
* ``normalize`` - read + OCSF normalization (item 4): the events the detectors get;
* ``store``     - normalize + writing the Parquet lake and the SQLite catalog.

It prints records/s, MB/s, peak RSS and each mode's cost relative to ``bare`` (the issue's
aim: ingestion <= 2x) and to ``bare-fast``, as the median of ``--repeat`` runs.
Run: ``python bench/bench_ingest.py [--quick] [--formats evtx,zeek,jsonl]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

CORPUS = Path(
    os.environ.get("GARRISON_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus")
)


def _files(fmt: str, workdir: Path) -> list[Path]:
    if fmt == "evtx":
        return sorted((CORPUS / "evtx-attack-samples").rglob("*.evtx"))
    if fmt == "zeek":
        return sorted(
            p
            for p in (CORPUS / "zeek-stratosphere").rglob("*")
            if p.is_file() and ("conn.log" in p.name or "dns.log" in p.name or "http.log" in p.name)
        )
    if fmt == "jsonl":
        out = workdir / "mordor.jsonl"
        if not out.exists():
            with out.open("wb") as fh:
                for z in sorted((CORPUS / "mordor").glob("*.zip")):
                    with zipfile.ZipFile(z) as zf:
                        for name in zf.namelist():
                            fh.write(zf.read(name))
        return [out]
    raise ValueError(fmt)


def _bare(fmt: str, files: list[Path], fast: bool) -> int:
    loads: Any = json.loads
    if fast:
        import orjson

        loads = orjson.loads
    n = 0
    if fmt == "evtx":
        import evtx

        for f in files:
            for rec in evtx.PyEvtxParser(str(f)).records_json():
                loads(rec["data"])
                n += 1
    elif fmt == "zeek":
        n = _bare_zeek_split(files) if fast else _bare_zeek_typed(files)
    else:
        for f in files:
            with f.open("rb") as fh:
                for line in fh:
                    if line.strip():
                        loads(line)
                        n += 1
    return n


def _bare_zeek_typed(files: list[Path]) -> int:
    try:
        from parsezeeklogs import ZeekLog
    except ImportError:
        sys.exit("parsezeeklogs is not installed: pip install -e '.[bench]'")
    n = 0
    for f in files:
        with ZeekLog(f) as log:
            for _ in log:
                n += 1
    return n


def _bare_zeek_split(files: list[Path]) -> int:
    """Header names zipped with the tab-split cells (TSV), json per line (JSON logs)."""
    n = 0
    for f in files:
        names: list[str] = []
        with f.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("{"):
                    json.loads(line)
                    n += 1
                elif line.startswith("#fields"):
                    names = line.rstrip("\n").split("\t")[1:]
                elif not line.startswith("#") and line.strip():
                    dict(zip(names, line.rstrip("\n").split("\t"), strict=False))
                    n += 1
    return n


def _ingest(files: list[Path], mode: str, store_dir: Path | None) -> int:
    from garrison.pipeline import allocation_heavy

    store = None
    if store_dir is not None:
        from garrison.store import ParquetEventStore, StateDB

        state = StateDB(store_dir / "state.db")
        store = ParquetEventStore(store_dir / "lake", state)
    with allocation_heavy():  # as HuntService.run does
        n = _ingest_files(files, mode, store)
        if store is not None:
            store.flush()
    return n


def _ingest_files(files: list[Path], mode: str, store: Any) -> int:
    from garrison.core.timeutil import now_ms
    from garrison.ingest.reader import InputFile, batches, open_source
    from garrison.pipeline import build_events

    n = 0
    for f in files:
        src = open_source(InputFile(f, str(f)))
        if src is None:
            continue
        for batch in batches(src, InputFile(f, str(f)), 5000):
            if mode == "read":
                n += batch.size
                continue
            events, rejected = build_events(batch, now_ms())
            if store is not None:
                store.write_batch(batch.fingerprint, batch.source_format, batch.source_path, events)
            n += len(events) + len(rejected)
    return n


def _child(mode: str, fmt: str, workdir: str) -> None:
    wd = Path(workdir)
    files = _files(fmt, wd)
    store_dir = Path(tempfile.mkdtemp(dir=wd)) if mode == "store" else None
    if not mode.startswith("bare"):
        import garrison.pipeline
        import garrison.store  # noqa: F401
    start = time.perf_counter()
    if mode.startswith("bare"):
        n = _bare(fmt, files, fast=mode == "bare-fast")
    else:
        n = _ingest(files, mode, store_dir)
    seconds = time.perf_counter() - start
    size = sum(f.stat().st_size for f in files)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"records": n, "seconds": seconds, "bytes": size, "rss_mb": rss_mb}))
    if store_dir:
        shutil.rmtree(store_dir, ignore_errors=True)


def _measure(mode: str, fmt: str, workdir: Path, repeat: int) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--child", mode, fmt, str(workdir)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    secs = statistics.median(r["seconds"] for r in runs)
    return {
        "records": runs[0]["records"],
        "seconds": secs,
        "rec_s": runs[0]["records"] / secs,
        "mb_s": runs[0]["bytes"] / 1e6 / secs,
        "rss_mb": max(r["rss_mb"] for r in runs),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one repeat instead of three")
    ap.add_argument("--formats", default="evtx,zeek,jsonl")
    ap.add_argument(
        "--child", nargs=3, metavar=("MODE", "FORMAT", "WORKDIR"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    if not CORPUS.is_dir():
        sys.exit(f"corpus not found at {CORPUS}")
    repeat = 1 if args.quick else 3
    modes = ("bare", "bare-fast", "read", "normalize", "store")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        print(
            f"{'format':6} {'mode':9} {'records':>8} {'rec/s':>9} {'MB/s':>7} "
            f"{'peak MB':>8} {'vs bare':>8} {'vs fast':>8}"
        )
        for fmt in args.formats.split(","):
            results = {mode: _measure(mode, fmt, workdir, repeat) for mode in modes}
            for mode in modes:
                r = results[mode]
                print(
                    f"{fmt:6} {mode:9} {r['records']:>8.0f} {r['rec_s']:>9,.0f} "
                    f"{r['mb_s']:>7.1f} {r['rss_mb']:>8.0f} "
                    f"{results['bare']['rec_s'] / r['rec_s']:>7.2f}x "
                    f"{results['bare-fast']['rec_s'] / r['rec_s']:>7.2f}x"
                )
        print(f"(median of {repeat} runs each, one process per run, one core)")


if __name__ == "__main__":
    main()
