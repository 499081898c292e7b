"""Model extraction against the served DGA model, with and without the serving guard.

ART's KnockoffNets and CopycatCNN (random sampling) steal the model through the guard's
``VectorEndpoint`` from three kinds of thief data: random vectors over the range real
names span, the features of random strings, and real names of the thief's own (public top
lists and DGA feeds). For each it prints the queries until the guard flagged the thief,
the stolen copy's agreement with our model at that point (retrained on exactly what the
thief had), and its agreement after 2,000 queries undefended (``on_flag = "log"``). Then
``--clients`` benign clients replay real names (opendns lists, Zeek dns logs, a share of
DGA names) over one simulated day, in four rate profiles (steady, analyst, bursty, batch),
through one guard; it prints how many were flagged and how many requests the rate limits
refused. Anchors (docs/serving-guard.md): PRADA flags all prior attacks with no false
positives; undefended KnockoffNets reaches 0.92 agreement after 2,000 queries.

    python bench/bench_extraction.py [--corpus ../shared/corpus] [--clients 1000]
        [--queries 2000] [--seed 0]      (pip install -e '.[redteam]')
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from garrison.detect.ml.textmodels import text_model
from garrison.govern.serving import GuardConfig
from garrison.measure.extraction_eval import (
    ATTACKS,
    THIEVES,
    benign_replay,
    load_pools,
    run_attack,
)

TARGET_QUERIES, TARGET_AGREEMENT, TARGET_BENIGN = 500, 0.85, 0.001


def _config() -> GuardConfig:
    config = GuardConfig(coarsen="full")
    config.extraction.on_flag = "log"  # let the attack run on, to measure it undefended
    return config


def main() -> None:
    here = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=here.parent / "shared" / "corpus")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        model = text_model("dga").load(None, Path(home))
    pools = load_pools(args.corpus, model, args.seed)
    print(
        f"held-out names for agreement: {len(pools.test_x)}; benign replay pool {len(pools.benign)}"
    )
    print(f"{'attack':9} {'thief data':16} {'flagged at':>10} {'agree@flag':>10} "
          f"{'agree@' + str(args.queries):>11}  signal")  # fmt: skip
    for thief in THIEVES:
        for attack in ATTACKS:
            r = run_attack(attack, thief, model, pools, _config(), args.queries, seed=args.seed)
            at = "-" if r.flagged_at is None else str(r.flagged_at)
            agree = "-" if r.agreement_at_flag is None else f"{r.agreement_at_flag:.3f}"
            signal = ", ".join(reason.split(":")[0] for reason in r.reasons) or "not flagged"
            ok = (
                r.flagged_at is not None
                and r.flagged_at < TARGET_QUERIES
                and (r.agreement_at_flag or 0) < TARGET_AGREEMENT
            )
            print(f"{attack:9} {thief:16} {at:>10} {agree:>10} {r.agreement_at_end:>11.3f}  "
                  f"{signal}{'' if ok else '  (goal missed)'}")  # fmt: skip
    started = time.perf_counter()
    b = benign_replay(model, pools, _config(), args.clients, args.seed)
    rate = b.flagged / b.clients
    print(f"benign: {b.flagged} of {b.clients} clients flagged ({rate:.2%}, goal <= "
          f"{TARGET_BENIGN:.1%}); {b.queries:,} lines scored; {b.refused_requests} requests "
          f"refused by rate limits or quotas; {time.perf_counter() - started:.0f} s")  # fmt: skip
    for profile, (n, flagged) in sorted(b.by_profile.items()):
        print(f"  {profile:8} {n:5} clients, {flagged} flagged")
    for reason in b.flagged_reasons[:10]:
        print(f"  flagged: {reason}")


if __name__ == "__main__":
    main()
