"""Phishing-URL scoring throughput on one core: ``garrison score url`` end to end.

Runs the ``url`` text model's batch scorer (parse, normalize, features, linear model,
JSON lines out) over a file of URLs, once with the default explanations (exact log-odds
terms for malicious verdicts) and once with ``--no-explain``; parse caches are cleared
before each pass so every URL is parsed cold. Prints URLs/second against the target of
20,000 URLs/s on one core, by wall clock and by the process's CPU time (the honest figure
on a machine other work shares).
Input: ``--file`` (one URL per line, or a JSON array), default generated URLs.

    python bench/bench_url.py [--n 200000] [--file PATH] [--model PATH]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from garrison.detect.ml.domains import _parse_text
from garrison.detect.ml.text import score_stream
from garrison.detect.ml.textmodels import text_model
from garrison.detect.ml.url.lexical import host_features
from garrison.detect.ml.url.parse import _parse

TARGET = 20_000
WORDS = ["cloud", "shop", "news", "data", "group", "travel", "media", "home", "city", "garden"]
TLDS = ["com", "net", "org", "de", "co.uk", "info", "tk", "xyz", "com.br", "ru"]


def generated(n: int, seed: int = 1) -> list[str]:
    """A mix of sites with many pages, one-off hosts, long queries, IPs and junk lines."""
    rng = random.Random(seed)
    sites = [f"{rng.choice(WORDS)}{rng.choice(WORDS)}.{rng.choice(TLDS)}" for _ in range(3000)]
    out: list[str] = []
    for i in range(n):
        kind = i % 10
        site = rng.choice(sites)
        path = "/".join(rng.choice(WORDS) for _ in range(rng.randint(0, 5)))
        if kind < 6:
            out.append(f"https://www.{site}/{path}")
        elif kind < 8:
            token = f"{rng.getrandbits(128):032x}"
            out.append(f"http://{rng.choice(WORDS)}-{i}.{site}/{path}/{token}/index.php?id={i}")
        elif kind == 8:
            out.append(f"http://10.{i % 256}.{rng.randint(0, 255)}.{rng.randint(1, 254)}/{path}")
        else:
            out.append(rng.choice(["", "not a url", "javascript:void(0)", f"{site}/{path}?q={i}"]))
    return out


def read(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        return [str(x) for x in json.loads(text)]
    return text.splitlines()


def run(lines: list[str], model: Path | None, explain: bool) -> tuple[float, float, dict[str, int]]:
    for cache in (_parse, _parse_text, host_features):
        cache.cache_clear()
    blob = io.BytesIO("\n".join(lines).encode("utf-8") + b"\n")
    sink = io.StringIO()
    started, cpu = time.perf_counter(), time.process_time()
    url = text_model("url")
    loaded = url.load(model)
    counts = score_stream(
        blob, sink, lambda batch: url.score_batch(loaded, batch, explain=explain), url.batch
    )
    return time.perf_counter() - started, time.process_time() - cpu, counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--file", type=Path, action="append")
    ap.add_argument("--model", type=Path)
    args = ap.parse_args()
    lines = [u for f in args.file for u in read(f)] if args.file else generated(args.n)
    run(lines[:2000], args.model, True)  # load the model, warm imports
    with threadpool_limits(1):
        for explain in (True, False):
            seconds, cpu, counts = run(lines, args.model, explain)
            rate, cpu_rate = len(lines) / seconds, len(lines) / cpu
            print(
                f"{'explain' if explain else 'no-explain':>10}: {len(lines):,} URLs in "
                f"{seconds:.2f} s wall = {rate:,.0f} URLs/s, {cpu:.2f} s CPU = "
                f"{cpu_rate:,.0f} URLs/s per core ({counts}); target {TARGET:,}/s per core: "
                f"{'met' if cpu_rate >= TARGET else 'NOT met'}"
            )


if __name__ == "__main__":
    main()
