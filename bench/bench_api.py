"""Benchmark: latency of the API's read routes under concurrent clients, over loopback.

Seeds a home with synthetic findings and incidents (``correlate.synthetic``), starts the
real ``garrison serve`` (uvicorn, one process) on a free loopback port, then runs
``--clients`` concurrent clients for ``--seconds``, each cycling through the read routes
(findings queue, incidents queue, one incident, audit) with a Bearer token. Prints requests
per second and p50/p99 latency per route; issue 11 asks p99 < 200 ms with 50 clients.

Usage: python bench/bench_api.py [--findings 3000] [--clients 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from garrison.correlate.service import INDEX_FILE
from garrison.correlate.synthetic import generate
from garrison.govern.access import Principal, UserStore
from garrison.store.state import StateDB

ROOT = Path(__file__).resolve().parents[1]
RUNNER = "from garrison.interfaces.cli.app import main; main()"


def seed(home: Path, findings: int) -> str:
    sys.path.insert(0, str(ROOT))
    from tests.support import store_alerts

    state = StateDB(home / "state.db")
    store_alerts(state, home / INDEX_FILE, generate(findings, n_users=60, n_chains=8).findings)
    UserStore(state).add_user("root", ["admin"])
    admin = UserStore(state, actor=Principal("root", frozenset({"admin"}), "cli"))
    admin.add_user("ann", ["analyst"])
    return admin.issue_token("ann", "analyst").secret


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A running ``garrison serve``: its base URL and its processes (the server and any
    worker processes it started), whose CPU time the benchmarks report per request."""

    def __init__(self, proc: subprocess.Popen[bytes], base: str) -> None:
        self.proc, self.base = proc, base

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process and its children, alive or reaped."""
        return sum(_cpu(pid) for pid in _tree(self.proc.pid))


def _tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(p for child in children for p in _tree(int(child)))]


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # utime, stime, cutime, cstime (fields 14-17 of proc(5), after the command name)
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


@contextmanager
def served(home: Path, workers: int | None = None) -> Iterator[Server]:
    """The real ``garrison serve`` on the home, on a free loopback port."""
    port = free_port()
    env = {**os.environ, "GARRISON_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}
    if workers is not None:
        env["GARRISON_SERVE_WORKERS"] = str(workers)
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, "serve", "--port", str(port)],
        env=env, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield Server(proc, base)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


async def client(base: str, token: str, paths: list[str], until: float, out: dict) -> None:
    """One keep-alive HTTP/1.1 connection issuing GETs back to back (no think time).

    Raw asyncio streams rather than httpx: on a 2-core machine the load generator shares
    the CPU with the server, and httpx's per-request cost (several times the server's)
    would measure the client more than the server, as wrk-style tools avoid."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = f"Host: {host}\r\nAuthorization: Bearer {token}\r\n\r\n"
    try:
        i = 0
        while time.perf_counter() < until:
            path = paths[i % len(paths)]
            i += 1
            start = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\n{head}".encode())
            status = await _response(reader)
            out.setdefault(path.split("?")[0], []).append(time.perf_counter() - start)
            if status != 200:
                out.setdefault("errors", []).append(status)
    finally:
        writer.close()


async def _response(reader: asyncio.StreamReader) -> int:
    """Read one response with a Content-Length body; its status."""
    lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
    status = int(lines[0].split()[1])
    length = next(
        int(line.partition(b":")[2])
        for line in lines
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    return status


async def run(base: str, token: str, clients: int, seconds: float) -> dict:
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as h:
        incident = (await h.get("/api/incidents?limit=1")).json()[0]["uid"]
    paths = [
        "/api/findings?limit=50",
        "/api/incidents?limit=50",
        f"/api/incidents/{incident}",
        "/api/findings?status=all&band=High&limit=50",
        "/api/audit?limit=20",
    ]
    out: dict = {}
    until = time.perf_counter() + seconds
    await asyncio.gather(*(client(base, token, paths, until, out) for _ in range(clients)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--workers", type=int, default=None, help="server processes ([serve] workers)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        token = seed(home, args.findings)
        with served(home, args.workers) as server:
            cpu = server.cpu_seconds()
            results = asyncio.run(run(server.base, token, args.clients, args.seconds))
            cpu = server.cpu_seconds() - cpu
    errors = results.pop("errors", [])
    total = sum(len(v) for v in results.values())
    print(f"{args.clients} clients, {args.seconds:.0f} s, {args.findings} findings seeded")
    print(
        f"{total / args.seconds:.0f} requests/s, {len(errors)} non-200, "
        f"server CPU {cpu * 1000 / max(1, total):.2f} ms per request"
    )
    for path, times in sorted(results.items()):
        ms = sorted(t * 1000 for t in times)
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        print(f"  {path:32} n={len(ms):6}  p50 {statistics.median(ms):7.1f} ms  p99 {p99:7.1f} ms")


if __name__ == "__main__":
    main()
