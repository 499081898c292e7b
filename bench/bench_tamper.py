"""The tamper suite of the model registry (issue 13): every tamper refused, no clean load
refused.

Builds a lab (a copy of the release-signed shipped models folder, a home with two signed
DGA versions in production one after the other), then runs ``--flips`` random single-bit
flips, every variant of each other kind (card and metadata edits, added / removed /
renamed files, wrong key, a signature from another folder, entry or move, downgrades)
``--rounds`` times, and ``--clean`` clean loads spread between them. Every load goes
through the loader's check (``garrison.govern.registry.gate.read_verified``) and is then
deserialised (skops with the model's allowlist, or JSON). See
``garrison.measure.ml_eval.tamper``. Prints a table per kind and the false-refusal count
(``--json``: the report as JSON); exits 1 when a tamper loaded or a clean load was refused.

    python bench/bench_tamper.py [--flips 1000] [--rounds 5] [--clean 1000] [--seed 13]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from garrison.measure.ml_eval.tamper import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flips", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clean", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="garrison-tamper-") as root:
        report = run(Path(root), args.flips, args.rounds, args.clean, args.seed)
    data = report.as_json()
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(f"{'kind':<20}{'trials':>8}{'refused':>9}{'rate':>9}")
        for kind, tally in data["kinds"].items():
            rate = 100.0 * tally["refused"] / tally["trials"] if tally["trials"] else 0.0
            print(f"{kind:<20}{tally['trials']:>8}{tally['refused']:>9}{rate:>8.1f}%")
            for missed in tally["missed"]:
                print(f"  LOADED: {missed}")
        print(f"{'all tampers':<20}{data['tampered']:>8}{data['refused']:>9}")
        print(f"clean loads {data['clean_loads']}, false refusals {data['false_refusals']}")
        for example in data["false_refusal_examples"]:
            print(f"  REFUSED: {example}")
        print(f"{data['seconds']} s")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
