"""Correlation at scale: time and peak memory from 10k to 1M synthetic findings.

Each size runs in a fresh subprocess (so peak RSS belongs to that size alone) over the
synthetic organisation of ``garrison.correlate.synthetic`` (users ~ findings / 25, habitual
noise, domain controllers as hubs, three labelled attack chains). Phases, timed apart:

* ``generate``  - building the Finding objects (not Garrison's cost; shown for scale);
* ``triage``    - dedup, enrichment, verdicts/rules, scoring (no inventory, no state);
* ``correlate`` - hubs, union-find grouping, bridges, risk per group, incident building.

Printed per size: seconds per phase, microseconds per finding, peak RSS and its growth over
the generated findings, the number of incidents, the largest incident, and whether every
attack chain landed in a High/Critical incident. The last line fits the growth exponent of
correlate time (1.0 = linear). Run: ``python bench/bench_correlate.py [--sizes 10000,100000]``.
Not run in CI.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time

DEFAULT_SIZES = (10_000, 30_000, 100_000, 300_000, 1_000_000)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(n: int) -> dict[str, object]:
    from garrison.core.gctune import gc_paused
    from garrison.correlate.service import AlertPipeline
    from garrison.correlate.synthetic import generate
    from garrison.triage.config import TriageConfig
    from garrison.triage.service import TriageService

    t0 = time.perf_counter()
    with gc_paused():
        scenario = generate(n, n_users=max(50, n // 25), n_chains=3, days=7, seed=1)
    t1 = time.perf_counter()
    rss_generated = _rss_mb()
    cfg = TriageConfig()
    pipeline = AlertPipeline(cfg, TriageService(cfg))
    with gc_paused():
        kept = pipeline.triage.process(scenario.findings)
    t2 = time.perf_counter()
    incidents = pipeline.correlate(kept)
    t3 = time.perf_counter()
    caught = 0
    for chain in scenario.chains:
        keys = set(chain["entities"])
        if any(
            keys & {e.key() for e in i.entities} and i.band in ("High", "Critical")
            for i in incidents
        ):
            caught += 1
    return {
        "findings": n,
        "generate_s": round(t1 - t0, 2),
        "triage_s": round(t2 - t1, 2),
        "correlate_s": round(t3 - t2, 2),
        "us_per_finding": round((t3 - t1) / n * 1e6, 1),
        "peak_rss_mb": round(_rss_mb()),
        "rss_over_findings_mb": round(_rss_mb() - rss_generated),
        "incidents": len(incidents),
        "largest_incident": max((len(i.finding_uids) for i in incidents), default=0),
        "chains_high_critical": f"{caught}/{len(scenario.chains)}",
        "hubs": len(pipeline.stats.hubs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    rows = []
    cols = (
        "findings",
        "generate_s",
        "triage_s",
        "correlate_s",
        "us_per_finding",
        "peak_rss_mb",
        "rss_over_findings_mb",
        "incidents",
        "largest_incident",
        "chains_high_critical",
        "hubs",
    )
    print(" | ".join(cols))
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(" | ".join(str(row[c]) for c in cols), flush=True)
    if len(rows) >= 2:
        xs = [math.log(r["findings"]) for r in rows]
        ys = [math.log(max(1e-3, r["triage_s"] + r["correlate_s"])) for r in rows]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
            (x - mx) ** 2 for x in xs
        )
        print(f"growth exponent of triage+correlate time: {slope:.2f} (1.0 = linear)")


if __name__ == "__main__":
    main()
