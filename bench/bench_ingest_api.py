"""Benchmark: ingestion over the API (``POST /api/ingest``) next to ``garrison hunt`` on the
same bytes, in one run.

Generates JSON-lines events (sign-ins and flows with realistic fields), starts the real
``garrison serve`` (uvicorn, one process) on a free loopback port, and pushes ``--batches``
uploads of ``--events`` lines each from ``--clients`` concurrent clients; then hunts the
same files with the CLI into a fresh home. Prints events/s for both, the median seconds
per batch, the ratio, and checks conservation (records read = stored + quarantined) on
every answer. Issue 11 asks for 20,000 events/s sustained over the API.

Usage: python bench/bench_ingest_api.py [--events 50000] [--batches 4] [--clients 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from garrison.govern.access import Principal, UserStore
from garrison.store.state import StateDB

ROOT = Path(__file__).resolve().parents[1]
RUNNER = "from garrison.interfaces.cli.app import main; main()"
sys.path.insert(0, str(ROOT / "bench"))
from bench_api import served  # noqa: E402


def lines(n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    start = 1_709_373_600  # 2024-03-02T10:00:00Z
    out = []
    for i in range(n):
        t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + i // 20))
        out.append(
            json.dumps(
                {
                    "time": t,
                    "src_ip": f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                    "dst_ip": f"10.9.0.{rng.randrange(1, 40)}",
                    "user": f"user{rng.randrange(400)}",
                    "host": f"ws-{rng.randrange(300)}",
                    "action": rng.choice(["logon", "logoff", "connect"]),
                    "status": rng.choice(["success"] * 9 + ["failure"]),
                    "bytes": rng.randrange(100, 100_000),
                }
            )
        )
    return ("\n".join(out) + "\n").encode()


def seed_home(home: Path) -> str:
    state = StateDB(home / "state.db")
    UserStore(state).add_user("root", ["admin"])
    admin = UserStore(state, actor=Principal("root", frozenset({"admin"}), "cli"))
    admin.add_user("ann", ["analyst"])
    return admin.issue_token("ann", "analyst").secret


async def push(base: str, token: str, bodies: list[bytes], clients: int) -> list[dict]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
    queue = list(enumerate(bodies))
    answers: list[dict] = []

    async def one(http: httpx.AsyncClient) -> None:
        while queue:
            i, body = queue.pop(0)
            began = time.perf_counter()
            res = await http.post(f"/api/ingest?name=batch{i}.jsonl", content=body)
            res.raise_for_status()
            answers.append({**res.json(), "seconds": time.perf_counter() - began})

    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=600) as http:
        await asyncio.gather(*(one(http) for _ in range(clients)))
    return answers


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--clients", type=int, default=2)
    args = ap.parse_args()
    bodies = [lines(args.events, seed) for seed in range(args.batches)]
    total = args.events * args.batches
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        token = seed_home(home)
        with served(home) as server:
            base = server.base
            began = time.perf_counter()
            answers = asyncio.run(push(base, token, bodies, args.clients))
            api_seconds = time.perf_counter() - began
        files = Path(tmp) / "files"
        files.mkdir()
        for i, body in enumerate(bodies):
            (files / f"batch{i}.jsonl").write_bytes(body)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", RUNNER, "hunt", str(files), "--out", str(Path(tmp) / "out"),
             "--home", str(Path(tmp) / "cli-home")],
            env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        cli_seconds = time.perf_counter() - began
    conserved = all(a["conserved"] for a in answers)
    stored = sum(a["events_stored"] for a in answers)
    per_batch = statistics.median(a["seconds"] for a in answers)
    print(f"{args.batches} batches x {args.events} events, {args.clients} client(s)")
    print(
        f"API  POST /api/ingest : {total / api_seconds:8.0f} events/s  "
        f"(median {per_batch:.2f} s per batch, {stored} stored, conserved: {conserved})"
    )
    print(f"CLI  garrison hunt     : {total / cli_seconds:8.0f} events/s  (one run over the files)")
    print(f"ratio API / CLI        : {cli_seconds / api_seconds:8.2f}")


if __name__ == "__main__":
    main()
