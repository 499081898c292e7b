"""Benchmark: the training-data poisoning defence of ``garrison models train``.

For the DGA and URL models, on the corpus: the data split three ways by family / site
(approved set, new training set, held-out test), the approved model trained with the real
recipe, then for each poison at ``--share`` of the new set (random label flips, targeted
flips malicious -> benign, a backdoor trigger in malicious inputs labelled benign):
recall of the poisoned rows and false-positive rate on clean rows of the label-consistency
check (``garrison.measure.train_checks.suspects``), attack success rate of the model
trained on the poisoned set, and of the model trained once the flagged rows are removed,
and the clean-accuracy change (``garrison.measure.poisoning`` says what each figure means).

Issue 13 asks: at 5 % poison, >= 90 % of poisoned records found with <= 5 % false
positives, and ASR <= 5 % after the defence.

Usage: python bench/bench_poisoning.py [--models dga,url] [--seeds 1] [--share 0.05]
       [--json FILE]   (~4 min per model and seed on 2 shared cores)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from garrison.measure.poison_subjects import DgaSubject, UrlSubject
from garrison.measure.poisoning import KINDS, evaluate
from garrison.measure.train_checks import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
TARGET = {"recall": 0.90, "fp_rate": 0.05, "asr_defended": 0.05}


def subject(name: str) -> DgaSubject | UrlSubject:
    if name == "dga":
        return DgaSubject(CORPUS / "dga")
    if name == "url":
        return UrlSubject(CORPUS / "phishing-urls")
    raise SystemExit(f"unknown model {name!r} (dga, url)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="dga,url")
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--share", type=float, default=0.05)
    ap.add_argument(
        "--suspect-above", type=float, help="cut-off (default: the model's, train_checks)"
    )
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not CORPUS.is_dir():
        print(f"skipped: no corpus at {CORPUS}")
        return 0
    rows = []
    started = time.perf_counter()
    for name in args.models.split(","):
        subj = subject(name)
        for seed in range(args.seeds):
            above = args.suspect_above or SETTINGS[name].suspect_above
            ev = evaluate(subj, KINDS, args.share, seed, above, print)
            for k in ev.kinds:
                rows.append({"model": name, "seed": seed, "clean_flagged": ev.clean_flagged,
                             "above": above, **k.to_json()})  # fmt: skip
    print(f"\npoison share {args.share:.0%} ({time.perf_counter() - started:.0f} s)")
    head = ("model", "cut-off", "seed", "kind", "recall", "FP", "clean flagged", "ASR clean",
            "ASR poisoned", "ASR defended", "acc clean", "acc defended")  # fmt: skip
    print(" | ".join(head))
    failed = 0
    for r in rows:
        ok = all(r[k] >= v if k == "recall" else r[k] <= v for k, v in TARGET.items())
        failed += not ok
        print(
            f"{r['model']} | {r['above']} | {r['seed']} | {r['kind']} | {r['recall']:.3f} | "
            f"{r['fp_rate']:.3f} | {r['clean_flagged']:.3f} | {r['asr_clean']:.3f} | "
            f"{r['asr_poisoned']:.3f} | {r['asr_defended']:.3f} | "
            f"{r['accuracy_clean']:.4f} | {r['accuracy_defended']:.4f}"
            + ("" if ok else "  <- misses the target")
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"{len(rows) - failed} of {len(rows)} rows meet the target {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
