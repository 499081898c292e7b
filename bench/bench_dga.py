"""DGA scoring throughput on one core: batch scoring (vectorised), with and without explanations.

Explanations (exact TreeSHAP + n-gram terms) are computed only for names that are explained
(flagged ones), so they are timed on the names the model flags, separately from scoring.

Prints domains/second for the shipped model over a mix of names (by default generated here;
``--file`` takes one domain per line, e.g. a corpus list), against the target of 50,000
domains/s on one core. BLAS/OpenMP are pinned to one thread for the measurement.

    python bench/bench_dga.py [--n 200000] [--file PATH] [--model PATH]
"""

from __future__ import annotations

import argparse
import random
import string
import time
from collections.abc import Callable
from pathlib import Path

from threadpoolctl import threadpool_limits

from garrison.detect.ml.dga.model import load_model
from garrison.detect.ml.dga.scoring import score_lines
from garrison.detect.ml.domains import parse_domain

TARGET = 50_000


def generated(n: int, seed: int = 1) -> list[str]:
    """A realistic mix: repeated popular-style names, random labels, hex and word joins."""
    rng = random.Random(seed)
    words = [
        "cloud",
        "shop",
        "news",
        "mail",
        "secure",
        "data",
        "online",
        "group",
        "bank",
        "travel",
        "media",
        "home",
        "world",
        "tech",
        "store",
        "city",
        "best",
        "free",
    ]
    tlds = ["com", "net", "org", "de", "co.uk", "ru", "info", "io", "biz"]
    out = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            label = "".join(rng.choice(words) for _ in range(rng.randint(1, 3)))
        elif kind == 1:
            label = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(6, 20)))
        elif kind == 2:
            label = "".join(rng.choice("0123456789abcdef") for _ in range(rng.randint(8, 32)))
        else:
            label = "".join(rng.choice(words) for _ in range(rng.randint(3, 5)))
        out.append(f"www.{label}.{rng.choice(tlds)}")
    return out


def _timed(call: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--file", type=Path)
    ap.add_argument("--model", type=Path)
    args = ap.parse_args()
    names = (
        args.file.read_text(encoding="utf-8", errors="replace").split()[: args.n]
        if args.file
        else generated(args.n)
    )
    model = load_model(args.model)
    with threadpool_limits(1):
        model.score(["warmup"], ["com"])
        parsed = [parse_domain(n) for n in names]
        ok = [p for p in parsed if p.scorable]
        labels, suffixes = [p.name for p in ok], [p.suffix for p in ok]
        t_score, c_score = _timed(lambda: model.score(labels, suffixes))
        probs, x = model.score(labels, suffixes)
        flagged = [i for i, p in enumerate(probs) if p >= model.threshold]
        f_labels, f_x = [labels[i] for i in flagged], x[flagged]
        model.explain(f_labels[:1], f_x[:1])  # builds the explainer once (not timed)
        t_explain, c_explain = _timed(lambda: model.explain(f_labels, f_x))
        t_lines, c_lines = _timed(lambda: score_lines(names, model))
    n = len(ok)
    print(
        f"model {model.version}: {n:,} scorable of {len(names):,} names, "
        f"{len(flagged):,} flagged, one thread"
    )
    print(
        "  (wall = elapsed time; cpu = this process's CPU time, i.e. one core's capacity "
        "when other work shares the machine)"
    )
    for what, wall, cpu, count in (
        ("score (features + trees + calibration)", t_score, c_score, n),
        ("explanations of flagged (TreeSHAP+n-grams)", t_explain, c_explain, len(flagged)),
        ("`garrison score dga` path, no JSON I/O", t_lines, c_lines, len(names)),
    ):
        print(f"  {what:<42} wall {count / wall:>9,.0f}/s   cpu {count / cpu:>9,.0f}/s")
    best = n / c_score
    verdict = "meets" if best >= TARGET else "misses"
    print(
        f"target {TARGET:,} domains/s on one core: batch scoring {verdict} it "
        f"({best / TARGET:.2f}x by CPU time, {n / t_score / TARGET:.2f}x by wall time)"
    )


if __name__ == "__main__":
    main()
