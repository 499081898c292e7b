"""Ingestion cost of the EVTX source (+ the Windows normalizer) against the bare parser.

``measure(paths)`` (or ``python bench/evtx_bench.py FILE.evtx...``, which prints JSON) times
passes over the same files, each repeated ``repeat`` times (the best run counts, after one
warm-up pass that also starts the parser worker), on one thread:

- ``bare``: ``PyEvtxParser(path, number_of_threads=1).records_json()`` + ``json.loads``
  (``bare_orjson``: the same with ``orjson.loads``, which the source uses);
- ``source`` / ``source_normalize``: ``EvtxSource.read`` (chunk scan, link check,
  accounting, one loads per record), then also ``normalize_evtx`` on every record, with
  the default ``isolate="auto"`` (intact chunks parsed in-process);
- ``source_normalize_isolated``: the same with ``isolate="always"`` (every chunk parsed in
  the worker process, which runs beside the main process).

Each entry has records, wall seconds, records/s, ``cost_vs_bare`` (wall time / bare wall
time) and ``cpu_seconds`` (main process + parser worker, from /proc on Linux).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evtx import PyEvtxParser

from garrison.core.events import RawRecord
from garrison.ingest.evtx import EvtxSource


def _bare(paths: Sequence[Path], loads: Callable[[str], Any] = json.loads) -> int:
    count = 0
    for path in paths:
        for rec in PyEvtxParser(str(path), number_of_threads=1).records_json():
            loads(rec["data"])  # type: ignore[index]
            count += 1
    return count


def _walk(paths: Sequence[Path], isolate: str, normalize: bool) -> int:
    from garrison.normalize.windows import normalize_evtx

    source = EvtxSource()
    source.isolate = isolate
    count = 0
    for path in paths:
        for item in source.read(path):
            if normalize and isinstance(item, RawRecord):
                normalize_evtx(item)
            count += 1
    return count


def _worker_cpu() -> float:
    """CPU seconds used so far by this process's idle parser workers (Linux /proc)."""
    from garrison.ingest._evtx_worker import POOL

    total = 0.0
    for worker in POOL.idle():
        proc = worker.proc
        if proc is None:
            continue
        try:
            stat = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _best(run: Callable[[], int], repeat: int) -> tuple[int, float, float]:
    run()  # warm the page cache, imports and the worker
    best, cpu, count = float("inf"), float("inf"), 0
    for _ in range(max(1, repeat)):
        cpu0, worker0 = time.process_time(), _worker_cpu()
        started = time.perf_counter()
        count = run()
        wall = time.perf_counter() - started
        if wall < best:
            best = wall
            cpu = time.process_time() - cpu0 + _worker_cpu() - worker0
    return count, best, cpu


def measure(paths: Sequence[Path], repeat: int = 5) -> dict[str, Any]:
    """Records/s of the bare parser and of the source (+ normalizer); cost ratios."""
    import orjson

    files = [Path(p) for p in paths]
    runs: dict[str, Callable[[], int]] = {
        "bare": lambda: _bare(files),
        "bare_orjson": lambda: _bare(files, orjson.loads),
        "source": lambda: _walk(files, "auto", False),
        "source_normalize": lambda: _walk(files, "auto", True),
        "source_normalize_isolated": lambda: _walk(files, "always", True),
    }
    result: dict[str, Any] = {"files": len(files)}
    for name, run in runs.items():
        count, seconds, cpu = _best(run, repeat)
        result[name] = {
            "records": count,
            "seconds": round(seconds, 4),
            "cpu_seconds": round(cpu, 4),
            "records_per_s": round(count / seconds) if seconds else None,
        }
    bare = result["bare"]["seconds"]
    for name in runs:
        seconds = result[name]["seconds"]
        result[name]["cost_vs_bare"] = round(seconds / bare, 2) if bare else None
    return result


if __name__ == "__main__":
    import sys

    print(json.dumps(measure([Path(a) for a in sys.argv[1:]]), indent=2))
