"""Benchmark: the ``intel`` detector's load time and matching rate.

Writes a synthetic STIX 2.1 bundle of N indicators (40 % domains, 30 % IPv4 addresses,
20 % SHA-256 hashes, 10 % URLs; every 50th pattern an OR of two values, so the grammar
path is exercised too) and builds M synthetic events in four OCSF shapes as the
normalizers produce them -- DNS (``query.hostname``), network connections
(``src/dst_endpoint.ip``), HTTP (``http_request.url``) and Sysmon-like process starts
(``process.file.hashes`` + flat ``Hashes``) -- with a small share (``--hit-rate``) naming a
listed value (domains via a subdomain). Prints the bundle's load time, the observe rate
(events/s, the detector alone, events already in memory) against the 100k events/s
target, finish time and the number of findings and matches.

Usage: python bench/bench_intel.py [--indicators 100000] [--events 1000000] [--hit-rate 0.001]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from garrison.core.events import Event, Provenance
from garrison.detect.intel.detector import IntelDetector
from garrison.detect.intel.loader import load_intel_files

T0 = 1_709_251_200_000
TARGET = 100_000


def _value(kind: str, i: int) -> str:
    if kind == "domain":
        return f"bad{i}.example-{i % 997}.net"
    if kind == "ip":
        return f"{11 + i % 200}.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
    if kind == "hash":
        return f"{i:064x}"
    return f"http://drop{i}.example.org/p/{i}.bin"


_PATH = {
    "domain": "domain-name:value",
    "ip": "ipv4-addr:value",
    "hash": "file:hashes.'SHA-256'",
    "url": "url:value",
}


def kinds(n: int) -> list[str]:
    return (
        ["domain"] * (n * 4 // 10)
        + ["ip"] * (n * 3 // 10)
        + ["hash"] * (n // 5)
        + ["url"] * (n - n * 4 // 10 - n * 3 // 10 - n // 5)
    )


def write_bundle(path: Path, n: int) -> list[tuple[str, str]]:
    listed = [(kind, _value(kind, i)) for i, kind in enumerate(kinds(n))]
    objects = []
    for i, (kind, value) in enumerate(listed):
        pattern = f"[{_PATH[kind]} = '{value}']"
        if i % 50 == 0:
            pattern = f"[{_PATH[kind]} = '{value}' OR {_PATH[kind]} = '{value}']"
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--00000000-0000-4000-8000-{i:012d}",
                "created": "2024-01-01T00:00:00Z",
                "modified": "2024-01-01T00:00:00Z",
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": "2024-01-01T00:00:00Z",
                "confidence": 80,
            }
        )
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": objects}))
    return listed


def events(m: int, listed: list[tuple[str, str]], hit_rate: float, seed: int = 1) -> list[Event]:
    rng = random.Random(seed)
    by_kind: dict[str, list[str]] = {}
    for kind, value in listed:
        by_kind.setdefault(kind, []).append(value)
    out: list[Event] = []
    for i in range(m):
        hit = rng.random() < hit_rate
        shape = i % 4
        host = f"ws{i % 500}"
        src = f"10.0.{(i >> 8) & 255}.{i & 255}"
        if shape == 0:
            name = f"www{i % 5000}.benign-{i % 20000}.com"
            if hit:
                name = "a." + rng.choice(by_kind["domain"])
            ocsf = {"query": {"hostname": name}, "src_endpoint": {"ip": src}}
            fields = {"query": name, "id.orig_h": src}
        elif shape == 1:
            dst = f"93.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
            if hit:
                dst = rng.choice(by_kind["ip"])
            ocsf = {"src_endpoint": {"ip": src}, "dst_endpoint": {"ip": dst}}
            fields = {"id.orig_h": src, "id.resp_h": dst}
        elif shape == 2:
            url = f"http://site{i % 3000}.com/page/{i % 100}"
            if hit:
                url = rng.choice(by_kind["url"])
            host_name = url.split("/")[2]
            ocsf = {
                "http_request": {"url": {"url_string": url, "hostname": host_name}},
                "src_endpoint": {"ip": src},
                "dst_endpoint": {"ip": "93.184.216.34"},
            }
            fields = {"host": host_name, "uri": "/", "id.orig_h": src}
        else:
            digest = f"{(i % 20000) + 10**12:064x}"
            if hit:
                digest = rng.choice(by_kind["hash"])
            ocsf = {
                "process": {"file": {"hashes": [{"algorithm": "SHA-256", "value": digest}]}},
                "device": {"hostname": host},
            }
            fields = {"Hashes": f"SHA256={digest.upper()},MD5={'0' * 32}", "Computer": host}
        prov = Provenance("bench.log", "jsonl", i + 1, "fp", 0)
        out.append(Event(f"e{i}", 0, T0 + i, ocsf, fields, "", prov))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--indicators", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--hit-rate", type=float, default=0.001)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "bundle.json"
        listed = write_bundle(bundle, args.indicators)
        size_mb = bundle.stat().st_size / 2**20
        start = time.perf_counter()
        intel = load_intel_files([bundle])
        load_s = time.perf_counter() - start
    print(
        f"load: {len(intel):,} indicators from a {size_mb:.1f} MB STIX bundle in {load_s:.2f} s "
        f"({len(intel) / load_s:,.0f}/s); unusable: {dict(intel.report.unusable) or 'none'}"
    )
    evs = events(args.events, listed, args.hit_rate)
    det = IntelDetector(intel)
    start = time.perf_counter()
    for lo in range(0, len(evs), args.batch):
        det.observe(evs[lo : lo + args.batch])
    observe_s = time.perf_counter() - start
    start = time.perf_counter()
    findings = det.finish()
    finish_s = time.perf_counter() - start
    rate = len(evs) / observe_s
    stats = det.stats()
    print(
        f"observe: {len(evs):,} events in {observe_s:.2f} s = {rate:,.0f} events/s "
        f"(target {TARGET:,}: {'met' if rate >= TARGET else 'NOT met'}); "
        f"{stats['matches']:,} matches -> {len(findings):,} findings; finish {finish_s:.3f} s"
    )


if __name__ == "__main__":
    main()
