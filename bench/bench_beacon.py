"""Benchmark: ml.beacon throughput and memory, next to the same per-pair statistics in DuckDB.

Synthetic day of connection logs: N connections over many (source, destination) pairs --
mostly random (Poisson) traffic, plus a few planted beacons with jitter. Prints

* the detector's observe rate (connections/s) and finish time, its peak traced memory, and
  whether every planted beacon came out on top;
* the same interval statistics per pair (count, median interval, MAD) computed by DuckDB
  SQL over an Arrow table of the same rows -- the batch way of doing it, and the ceiling
  for a columnar engine (FIELD-NOTES: ~0.64 s for 200k rows).

Usage: python bench/bench_beacon.py [--connections 300000] [--pairs 20000] [--beacons 20]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from garrison.core.events import CLASS_NETWORK_ACTIVITY, Event, Provenance
from garrison.detect.ml.beacon import BeaconConfig, BeaconDetector

T0 = 1_700_000_000_000
DAY_MS = 86_400_000


def synthetic(
    n: int, pairs: int, beacons: int, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, set[str]]:
    rng = np.random.default_rng(seed)
    per_beacon = DAY_MS // 60_000  # one a minute for a day
    n_random = max(0, n - beacons * per_beacon)
    pair = rng.integers(0, pairs, n_random)
    times = T0 + rng.integers(0, DAY_MS, n_random)
    sizes = rng.integers(40, 90_000, n_random)
    b_pair = np.repeat(np.arange(pairs, pairs + beacons), per_beacon)
    b_times = (
        T0
        + np.tile(np.arange(per_beacon) * 60_000, beacons)
        + rng.integers(-2_000, 2_000, beacons * per_beacon)
    )
    b_sizes = 310 + rng.integers(-5, 5, beacons * per_beacon)
    all_pair = np.concatenate([pair, b_pair])
    all_times = np.concatenate([times, b_times])
    all_sizes = np.concatenate([sizes, b_sizes])
    order = np.argsort(all_times, kind="stable")
    planted = {_dst(p) for p in range(pairs, pairs + beacons)}
    return all_pair[order], all_times[order], all_sizes[order], order, planted


def _src(p: int) -> str:
    return f"10.{(p >> 8) & 255}.{p & 255}.{(p >> 16) % 200 + 1}"


def _dst(p: int) -> str:
    return f"198.{18 + (p >> 16) % 2}.{(p >> 8) & 255}.{p & 255}"


def events_of(pair: np.ndarray, times: np.ndarray, sizes: np.ndarray) -> list[Event]:
    out = []
    for i, (p, t, s) in enumerate(zip(pair.tolist(), times.tolist(), sizes.tolist(), strict=True)):
        fields = {
            "id.orig_h": _src(p % 5000),
            "id.resp_h": _dst(p),
            "id.resp_p": 443,
            "proto": "tcp",
            "orig_bytes": s,
        }
        out.append(
            Event(
                f"e{i}",
                CLASS_NETWORK_ACTIVITY,
                t,
                {},
                fields,
                "",
                Provenance("bench", "zeek", i, "fp", 0),
            )
        )
    return out


def run_detector(events: list[Event], planted: set[str]) -> None:
    det = BeaconDetector(BeaconConfig(max_findings=1000))
    started = time.perf_counter()
    for k in range(0, len(events), 5000):
        det.observe(events[k : k + 5000])
    observed = time.perf_counter() - started
    started = time.perf_counter()
    findings = det.finish()
    finished = time.perf_counter() - started
    top = [f.explanation["pair"]["destination"] for f in findings[: len(planted)]]
    print(f"ml.beacon: {len(events):,} connections, {len(det.table):,} pairs")
    print(
        f"  observe {observed:.2f} s ({len(events) / observed:,.0f} connections/s), "
        f"finish {finished:.2f} s ({det.stats()['pairs_scored']:,} pairs scored, "
        f"{1000 * finished / max(1, det.stats()['pairs_scored']):.2f} ms per pair)"
    )
    print(
        f"  planted beacons in the top {len(planted)}: {len(set(top) & planted)}/{len(planted)}"
        f"; findings above threshold: {len(findings)}"
    )
    # memory in a second pass: tracemalloc slows Python down several times over
    tracemalloc.start()
    again = BeaconDetector(BeaconConfig(max_findings=1000))
    for k in range(0, len(events), 5000):
        again.observe(events[k : k + 5000])
    held, _ = tracemalloc.get_traced_memory()
    again.finish()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"  detector state after observe {held / 2**20:.1f} MiB, peak incl. finish "
        f"{peak / 2**20:.1f} MiB ({held / max(1, len(events)):.0f} bytes per connection)"
    )


def run_duckdb(pair: np.ndarray, times: np.ndarray) -> None:
    try:
        import duckdb
        import pyarrow as pa
    except ImportError:
        print("duckdb/pyarrow not installed: comparison skipped")
        return
    table = pa.table({"pair": pair, "ts": times})
    con = duckdb.connect()
    con.register("conn", table)
    started = time.perf_counter()
    rows = con.execute("""
        WITH d AS (
          SELECT pair, ts - lag(ts) OVER (PARTITION BY pair ORDER BY ts) AS delta FROM conn),
        m AS (SELECT pair, count(*) AS n, median(delta) AS med FROM d
              WHERE delta IS NOT NULL GROUP BY pair)
        SELECT m.pair, m.n, m.med, median(abs(d.delta - m.med)) AS mad
        FROM d JOIN m USING (pair) WHERE d.delta IS NOT NULL
        GROUP BY m.pair, m.n, m.med HAVING m.n >= 3
    """).fetchall()
    elapsed = time.perf_counter() - started
    print(
        f"DuckDB per-pair interval statistics (count, median, MAD) over the same rows: "
        f"{elapsed:.2f} s for {len(rows):,} pairs ({len(times) / elapsed:,.0f} rows/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=300_000)
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--beacons", type=int, default=20)
    args = parser.parse_args()
    pair, times, sizes, _, planted = synthetic(args.connections, args.pairs, args.beacons)
    started = time.perf_counter()
    events = events_of(pair, times, sizes)
    print(
        f"built {len(events):,} events in {time.perf_counter() - started:.1f} s (not timed below)"
    )
    run_detector(events, planted)
    run_duckdb(pair, times)


if __name__ == "__main__":
    main()
