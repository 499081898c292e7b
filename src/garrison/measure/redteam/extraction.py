"""Extraction attacks (ART KnockoffNets, CopycatCNN) against the served model, through the
serving guard: the red-team entries of ``garrison.measure.extraction_eval``.

One run per attack: the thief's queries go through the guard with ``on_flag = "log"``, so
the same query stream gives both sides. *Defended*: the guard's extraction test flags the
thief after ``queries_until_flagged`` queries; a guard that blocks there leaves the thief a
copy trained on what it had then, whose agreement with our model is the defended figure.
*Undefended*: the copy after the whole budget (the guard never stops it). Agreement is
measured on held-out real names (benign lists and DGA families). Both sides see the
guard's coarsened answers (labels only): the undefended figure is therefore a lower bound
of what an unguarded, score-returning endpoint would give away.

The guard's vector endpoint serves the DGA model; the URL model is not served that way
yet, so these attacks list ``models = ("dga",)`` and are skipped for other models.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.core.errors import InputError
from garrison.govern.serving import GuardConfig
from garrison.measure.extraction_eval import Pools, load_pools, run_attack
from garrison.measure.redteam.contract import AttackResult, Outcome, Target

#: Issue 13's bar: flagged before this many queries, while the copy agrees less than this.
MAX_QUERIES = 500
MAX_AGREEMENT = 0.85
#: Held-out names agreement is measured on (per class) and DGA names in the pools: small,
#: so the pools build in seconds; the bench (bench/bench_extraction.py) uses the full sets.
TEST_N = 1000
DGA_N = 4000
BATCH = 20


def served(target: Target) -> tuple[Any, Pools]:
    """The shipped DGA model (as served) and the name pools of the corpus."""
    from garrison.detect.ml.textmodels import text_model

    with tempfile.TemporaryDirectory() as home:
        model = text_model(target.name).load(None, Path(home))
    try:
        pools = load_pools(target.corpus, model, target.seed, TEST_N, DGA_N)
    except (FileNotFoundError, ValueError) as exc:
        raise InputError(f"redteam {target.name} extraction: {exc}") from exc
    return model, pools


def logging_guard() -> GuardConfig:
    """The guard as served (labels only), letting the thief run on past the flag."""
    config = GuardConfig(coarsen="full")
    config.extraction.on_flag = "log"
    return config


@dataclass(slots=True)
class ExtractionAttack:
    name: str
    #: ``knockoff`` or ``copycat`` (``extraction_eval.ATTACKS``).
    method: str
    #: The thief's data (``extraction_eval.THIEVES``).
    thief: str
    kind: str = "extraction"
    models: tuple[str, ...] = ("dga",)
    #: The guard's configuration (a test switches its extraction test off with it).
    guard: Callable[[], GuardConfig] = field(default=logging_guard)

    def run(self, target: Target, budget: int, seed: int) -> AttackResult:
        started = time.perf_counter()
        model, pools = target.part("served", served)
        r = run_attack(self.method, self.thief, model, pools, self.guard(), budget, BATCH, seed)
        # not flagged: the guard never stopped the thief, so the defended copy is the final one
        at_flag = r.agreement_at_end if r.flagged_at is None else r.agreement_at_flag
        stopped_at = r.queries if r.flagged_at is None else r.flagged_at
        points = len(pools.test_x)
        undefended = Outcome(points, r.agreement_at_end, queries=r.queries,
                             extra={"agreement": round(r.agreement_at_end, 4)})  # fmt: skip
        defended = Outcome(
            points, float(at_flag or 0.0), queries=stopped_at,
            extra={"queries_until_flagged": r.flagged_at,
                   "agreement": None if at_flag is None else round(at_flag, 4),
                   "signals": sorted({reason.split(":")[0] for reason in r.reasons})},
        )  # fmt: skip
        notes = [
            "extraction: success rate = the stolen copy's agreement with our model on "
            f"{points} held-out real names; defended = the copy the thief had when the guard "
            "flagged it, undefended = after the whole budget (both label-only answers)",
        ]
        return AttackResult(self.name, self.kind, undefended, defended, budget, seed,
                            time.perf_counter() - started, notes)  # fmt: skip


def done(result: AttackResult) -> bool:
    """Issue 13's extraction bar on one result."""
    extra = result.defended.extra
    at = extra.get("queries_until_flagged")
    agreement = extra.get("agreement")
    return (
        at is not None
        and at < MAX_QUERIES
        and agreement is not None
        and (agreement < MAX_AGREEMENT)
    )


def knockoff() -> ExtractionAttack:
    return ExtractionAttack("knockoff_nets", "knockoff", "uniform-vectors")


def copycat() -> ExtractionAttack:
    return ExtractionAttack("copycat_cnn", "copycat", "random-names")


def knockoff_natural() -> ExtractionAttack:
    """KnockoffNets fed real names of the thief's own (public lists, DGA feeds): the thief
    the guard is known not to flag (docs/serving-guard.md)."""
    return ExtractionAttack("knockoff_nets_natural", "knockoff", "natural-names")
