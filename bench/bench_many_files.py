"""Peak memory of a hunt over many one-line files: does it grow with the file count?

Issue 18 (item 13) measured ~15 KB per input file (50,000 one-line files: 1,030 MB): the
lake kept one Arrow table per input file until its flush. This prints, for 1,000 and
10,000 one-line JSON files (and any ``--sizes``), the peak resident set of a full
``HuntService`` run (the CLI's services: Parquet lake, SQLite state, every enabled
detector) in a fresh process each, the seconds it took, and the growth per extra file.
Figures, not a timed test.

Run: ``python bench/bench_many_files.py [--sizes 1000,10000] [--no-detectors]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_files(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        event = {
            "time": 1_700_000_000 + i,
            "host": f"h{i % 7}",
            "user": f"u{i % 13}",
            "msg": f"hello {i}",
        }
        (folder / f"f{i:06}.jsonl").write_text(json.dumps(event) + "\n")


def child(count: int, detectors: bool) -> None:
    """One measurement: hunt ``count`` files in this process; print a JSON line."""
    from garrison.core.config import load_config
    from garrison.pipeline import HuntService

    with tempfile.TemporaryDirectory(prefix="garrison-bench-") as tmp:
        root = Path(tmp)
        make_files(root / "in", count)
        service = HuntService.open(load_config(root / "home"))
        if not detectors:
            service._given_detectors = []  # bench switch, not an API
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        report = service.run([str(root / "in")])
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            json.dumps(
                {
                    "files": count,
                    "events": report.total().events_stored,
                    "seconds": round(seconds, 1),
                    "rss_before_mb": round(before / 1024, 1),
                    "peak_rss_mb": round(peak / 1024, 1),
                }
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--no-detectors", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, not args.no_detectors)
        return
    rows = []
    for count in (int(s) for s in args.sizes.split(",")):
        cmd = [sys.executable, __file__, "--child", str(count)]
        if args.no_detectors:
            cmd.append("--no-detectors")
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(f"{'files':>8} {'events':>8} {'seconds':>8} {'rss start MB':>13} {'peak RSS MB':>12}")
    for row in rows:
        print(
            f"{row['files']:>8} {row['events']:>8} {row['seconds']:>8} "
            f"{row['rss_before_mb']:>13} {row['peak_rss_mb']:>12}"
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        per_file = (
            (last["peak_rss_mb"] - first["peak_rss_mb"]) * 1024 / (last["files"] - first["files"])
        )
        print(f"peak RSS growth per extra file: {per_file:.2f} KB (issue 18 measured ~15 KB)")


if __name__ == "__main__":
    main()
