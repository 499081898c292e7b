"""Poisoning attacks (random and targeted label flips, ART's backdoor) on a model's training
set: the red-team entries of ``garrison.measure.poisoning``.

The evaluation splits the corpus three ways by group (approved, new, test), poisons
``SHARE`` of the new training set, and trains the real recipe twice: on the poisoned set
(*undefended*) and on it without the rows the training checks' label-consistency test
flags (*defended*, what ``garrison models train`` does). Success rate = the attack success
rate (ASR) on the held-out part; the defended side also reports the share of poisoned rows
found and of clean rows flagged. The three poisons share one evaluation per target (one
split, one reference and one clean model), built on first use.

Budgets are small here (``PER_FAMILY`` DGA names per family, ``URL_ROWS`` URLs per part)
so a red-team run takes minutes; ``bench/bench_poisoning.py`` runs the full-size figures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from garrison.core.errors import InputError
from garrison.measure.poison_subjects import DgaSubject, UrlSubject
from garrison.measure.poisoning import KINDS, Evaluation, KindResult, Subject, evaluate
from garrison.measure.redteam.contract import AttackResult, Outcome, Target
from garrison.measure.train_checks import SETTINGS

#: Issue 13's bar at 5 % poison.
SHARE = 0.05
MIN_FOUND = 0.90
MAX_FALSE_POSITIVES = 0.05
MAX_ASR = 0.05
#: Small training sets (the bench's: 1,500 DGA names per family, 15,000 URLs).
PER_FAMILY = 300
URL_ROWS = 1500


def subject(target: Target) -> Subject:
    """The model's poisoning subject, sized for a red-team run."""
    try:
        if target.name == "dga":
            per_family = min(PER_FAMILY, target.per_group)
            return DgaSubject(target.corpus / "dga", per_family=per_family,
                              synthetic_per_kind=per_family // 3,
                              test_per_family=per_family // 3)  # fmt: skip
        if target.name == "url":
            from garrison.detect.ml.url.train import TrainParams

            params = replace(TrainParams(), bits=16, c=1.0)
            return UrlSubject(target.corpus / "phishing-urls", rows=URL_ROWS,
                              approved_rows=2 * URL_ROWS, params=params)  # fmt: skip
    except (FileNotFoundError, ValueError) as exc:
        raise InputError(f"redteam {target.name} poisoning: {exc}") from exc
    raise InputError(f"redteam: no poisoning subject for model {target.name!r}")


def evaluation(target: Target) -> Evaluation:
    """Every poison against the target's subject, with and without the defence."""
    above = SETTINGS[target.name].suspect_above if target.name in SETTINGS else 0.7
    return evaluate(subject(target), KINDS, SHARE, target.seed, above)


@dataclass(slots=True)
class PoisoningAttack:
    name: str
    #: ``flip-random``, ``flip-targeted`` or ``backdoor`` (``poisoning.KINDS``).
    poison: str
    kind: str = "poisoning"

    def run(self, target: Target, budget: int, seed: int) -> AttackResult:
        started = time.perf_counter()
        ev = target.part("poisoning", evaluation)
        k = next(r for r in ev.kinds if r.kind == self.poison)
        undefended = Outcome(k.poisoned_rows, k.asr_poisoned,
                             clean={"accuracy": round(k.accuracy_poisoned, 4)},
                             extra={"asr_clean_model": round(k.asr_clean, 4)})  # fmt: skip
        defended = Outcome(k.poisoned_rows, k.asr_defended,
                           clean={"accuracy": round(k.accuracy_defended, 4)},
                           extra=_defended_extra(k))  # fmt: skip
        notes = [
            f"poisoning: {SHARE:.0%} of the new training set poisoned; success rate = attack "
            "success rate on held-out data; defended = retrained without the rows the "
            f"label-consistency check flagged (cut-off {ev.suspect_above}); the three poisons "
            f"share one split and evaluation (seed {ev.seed}; --budget does not apply)",
        ]
        return AttackResult(self.name, self.kind, undefended, defended, budget, ev.seed,
                            time.perf_counter() - started, notes)  # fmt: skip


def _defended_extra(k: KindResult) -> dict[str, Any]:
    return {
        "poison_found": round(k.recall, 4),
        "false_positives": round(k.fp_rate, 4),
        "rows": k.rows,
        "accuracy_clean_model": round(k.accuracy_clean, 4),
    }


def done(result: AttackResult) -> bool:
    """Issue 13's poisoning bar on one result."""
    extra = result.defended.extra
    return (
        extra.get("poison_found", 0.0) >= MIN_FOUND
        and extra.get("false_positives", 1.0) <= MAX_FALSE_POSITIVES
        and result.defended.success_rate <= MAX_ASR
    )


def flip_random() -> PoisoningAttack:
    return PoisoningAttack("label_flip_random", "flip-random")


def flip_targeted() -> PoisoningAttack:
    return PoisoningAttack("label_flip_targeted", "flip-targeted")


def backdoor() -> PoisoningAttack:
    return PoisoningAttack("backdoor", "backdoor")
