"""Benchmark: memory of ``garrison serve`` over a long mixed run (issue 11: memory flat over
a 10-minute soak).

Seeds a home with findings and incidents, starts the real server, then for ``--minutes``
keeps ``--clients`` keep-alive readers cycling through the read routes (as bench_api) while
one writer uploads a JSON-lines batch every ``--upload-every`` seconds, and samples the
resident memory of the server's processes (RSS, summed over workers) every
``--sample-every`` seconds. Prints the series, the median RSS of the first and the last
fifth of the run after the warm-up minute, the growth between them and the least-squares
slope in MB per minute, and says whether memory stayed flat (growth under ``--tolerance``
percent).

Usage: python bench/bench_soak.py [--minutes 10] [--clients 20] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import _tree, client, seed, served
from bench_ingest_api import lines


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


async def uploader(base: str, token: str, until: float, every: float, out: dict) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=600) as http:
        n = 0
        while every > 0 and time.perf_counter() < until:
            began = time.perf_counter()
            body = lines(5_000, 1_000 + n)
            res = await http.post(f"/api/ingest?name=soak{n}.jsonl", content=body)
            out.setdefault("uploads", []).append(res.status_code)
            n += 1
            await asyncio.sleep(max(0.0, every - (time.perf_counter() - began)))


async def sampler(pid: int, until: float, every: float, series: list[tuple[float, float]]) -> None:
    start = time.perf_counter()
    while time.perf_counter() < until:
        series.append((time.perf_counter() - start, rss_mb(_tree(pid))))
        await asyncio.sleep(every)


async def soak(base: str, pid: int, token: str, args: argparse.Namespace) -> tuple[dict, list]:
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as h:
        incident = (await h.get("/api/incidents?limit=1")).json()[0]["uid"]
    routes = {
        "findings": "/api/findings?limit=50",
        "incidents": "/api/incidents?limit=50",
        "incident": f"/api/incidents/{incident}",
        "band": "/api/findings?status=all&band=High&limit=50",
        "audit": "/api/audit?limit=20",
    }
    paths = [routes[name] for name in args.routes.split(",")]
    out: dict = {}
    series: list[tuple[float, float]] = []
    until = time.perf_counter() + args.minutes * 60
    await asyncio.gather(
        sampler(pid, until, args.sample_every, series),
        uploader(base, token, until, args.upload_every, out),
        *(client(base, token, paths, until, out) for _ in range(args.clients)),
    )
    return out, series


def slope_mb_per_minute(points: list[tuple[float, float]]) -> float:
    xs = [t / 60 for t, _ in points]
    ys = [m for _, m in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs) or 1.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--findings", type=int, default=3000)
    ap.add_argument("--routes", default="findings,incidents,incident,band,audit")
    ap.add_argument("--upload-every", type=float, default=10.0, help="seconds; 0: no uploads")
    ap.add_argument("--sample-every", type=float, default=10.0)
    ap.add_argument("--tolerance", type=float, default=10.0, help="percent growth allowed")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        token = seed(home, args.findings)
        with served(home, args.workers) as server:
            out, series = asyncio.run(soak(server.base, server.proc.pid, token, args))
    uploads = out.pop("uploads", [])
    errors = out.pop("errors", [])
    reads = sum(len(v) for v in out.values())
    steady = [(t, m) for t, m in series if t >= 60] or series
    fifth = max(1, len(steady) // 5)
    first = statistics.median(m for _, m in steady[:fifth])
    last = statistics.median(m for _, m in steady[-fifth:])
    growth = (last - first) / first * 100
    print(f"{args.minutes:g} min, {args.clients} readers, {reads} reads, {len(errors)} non-200, "
          f"{len(uploads)} uploads of 5,000 events ({uploads.count(200)} accepted)")  # fmt: skip
    samples = " ".join(f"{m:.0f}" for _, m in series)
    print(f"RSS (MB) every {args.sample_every:g} s: {samples}")
    print(
        f"after the warm-up minute: first fifth median {first:.1f} MB, last fifth median "
        f"{last:.1f} MB, growth {growth:+.1f} %, slope {slope_mb_per_minute(steady):+.2f} MB/min"
    )
    verdict = "flat" if abs(growth) <= args.tolerance else "NOT flat"
    print(f"memory {verdict} (tolerance {args.tolerance:g} %)")


if __name__ == "__main__":
    main()
