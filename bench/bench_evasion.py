"""Evasion red-team over several seeds: the figures behind docs/red-team.md.

For each seed, ``garrison models redteam MODEL`` (the same service) is run: a fresh corpus
sample and split, both sides retrained, the same attacks. Prints each seed's rows and a
summary per attack: success rates, median L2 the attacker needs on each side and their
ratio (min / median over seeds), clean accuracy lost (max over seeds), and whether the
issue-13 bar (ratio >= 2, <= 1 point of accuracy lost) held on every seed.

    python bench/bench_evasion.py [--model dga] [--seeds 1,2,3] [--points 50] [--budget 1000]
                                  [--attacks hop_skip_jump,zoo,decision_tree] [--per-group 1500]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from garrison.measure.ml_eval.reports import corpus_root
from garrison.measure.redteam.service import RedTeamReport, RedTeamRequest, run_redteam
from garrison.measure.redteam.targets import CORPUS_PART, corpus_part


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="dga", choices=sorted(CORPUS_PART))
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--points", type=int, default=50)
    ap.add_argument("--budget", type=int, default=1000)
    ap.add_argument("--per-group", type=int, default=1500)
    ap.add_argument("--attacks", default="hop_skip_jump,zoo,decision_tree")
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="Write every report here.")
    args = ap.parse_args()
    root = corpus_root(args.corpus, corpus_part(args.model))
    reports: list[RedTeamReport] = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        request = RedTeamRequest(
            args.model, root, args.attacks, args.budget, seed, args.points, args.per_group
        )
        report = run_redteam(request)
        reports.append(report)
        _print_seed(seed, report)
    _print_summary(reports)
    if args.json is not None:
        args.json.write_text(json.dumps([r.to_json() for r in reports], indent=1))


def _print_seed(seed: int, report: RedTeamReport) -> None:
    for r in report.results:
        u, d = r.undefended, r.defended
        print(
            f"seed {seed} {r.attack:14s} success {u.success_rate:.0%} -> {d.success_rate:.0%}"
            f"  needed L2 {u.needed_l2} -> {d.needed_l2} (ratio {_f(r.perturbation_ratio)})"
            f"  median L2/Linf {u.median_l2}/{u.median_linf} -> {d.median_l2}/{d.median_linf}"
            f"  realisable {u.realisable_rate} -> {d.realisable_rate}"
            f"  queries/pt {u.queries_per_point:.0f}/{d.queries_per_point:.0f}"
            f"  acc {u.clean.get('accuracy')} -> {d.clean.get('accuracy')}"
            f"  AUC {u.clean.get('auc')} -> {d.clean.get('auc')}  {r.seconds:.0f} s",
            flush=True,
        )


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _print_summary(reports: list[RedTeamReport]) -> None:
    names = [r.attack for r in reports[0].results]
    print(f"\nsummary over {len(reports)} seed(s)")
    for name in names:
        rows = [next(r for r in rep.results if r.attack == name) for rep in reports]
        ratios = [r.perturbation_ratio for r in rows if r.perturbation_ratio is not None]
        loss = max(
            r.undefended.clean.get("accuracy", 0.0) - r.defended.clean.get("accuracy", 0.0)
            for r in rows
        )
        done = [rep.done(r) for rep, r in zip(reports, rows, strict=True)]
        print(
            f"{name:14s} success {_mean([r.undefended.success_rate for r in rows])} -> "
            f"{_mean([r.defended.success_rate for r in rows])}  needed-L2 ratio "
            f"min {_f(min(ratios) if ratios else None)} median "
            f"{_f(statistics.median(ratios) if ratios else None)}  accuracy lost at most "
            f"{loss * 100:.2f} points  bar met on {sum(d is True for d in done)}/{len(done)}"
            f" seeds ({sum(d is None for d in done)} not applicable)"
        )


def _mean(values: list[float]) -> str:
    return f"{statistics.mean(values):.0%}"


if __name__ == "__main__":
    main()
