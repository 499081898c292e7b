"""``garrison models redteam NAME``: run a selection of attacks against one model.

The service builds the model's target once (the attacked points, both sides of the model)
and runs each selected attack with the same budget and seed against it, undefended and
defended; the report lists one result per attack and, for evasion, whether the defence
held its promise (``done``): the median perturbation the attacker needs at least doubles
and clean accuracy drops by at most one percentage point.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.core.errors import UsageError
from garrison.measure.redteam.contract import AttackResult, Target
from garrison.measure.redteam.registry import select

#: Done means (issue 13): perturbation at least doubled, at most 1 point of accuracy lost.
MIN_RATIO = 2.0
MAX_ACCURACY_LOSS = 0.01


@dataclass(frozen=True, slots=True)
class RedTeamRequest:
    name: str
    corpus: Path
    attacks: str | None = None
    budget: int = 1000
    seed: int = 7
    points: int = 50
    per_group: int = 1500

    def check(self) -> None:
        if self.budget < 50:
            raise UsageError("--budget must be at least 50 queries")
        if self.points < 1:
            raise UsageError("--points must be at least 1")
        if self.per_group < 50:
            raise UsageError("--per-group must be at least 50")
        if not self.corpus.is_dir():
            raise UsageError(f"--corpus {self.corpus}: not a folder")


@dataclass(slots=True)
class RedTeamReport:
    model: str
    results: list[AttackResult] = field(default_factory=list)
    seconds: float = 0.0

    def done(self, result: AttackResult) -> bool | None:
        """Whether the defence met issue 13's evasion bar on this attack; None when the bar
        does not apply (not an evasion attack, or one that fails on half of the points or
        more even against the undefended model)."""
        ratio = result.perturbation_ratio
        if result.kind != "evasion" or ratio is None:
            return None
        before = result.undefended.clean.get("accuracy")
        after = result.defended.clean.get("accuracy")
        if before is None or after is None:
            return False
        return ratio >= MIN_RATIO and before - after <= MAX_ACCURACY_LOSS

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "seconds": round(self.seconds, 2),
            "attacks": [{**r.to_json(), "done": self.done(r)} for r in self.results],
        }


def run_redteam(request: RedTeamRequest) -> RedTeamReport:
    """Run the selected attacks (see module docstring)."""
    request.check()
    chosen = select(request.attacks)
    attacks = [entry.build() for entry in chosen]
    target = Target(request.name, request.corpus, request.points, request.seed,
                    per_group=request.per_group)  # fmt: skip
    started = time.perf_counter()
    report = RedTeamReport(request.name)
    for attack in attacks:
        report.results.append(attack.run(target, request.budget, request.seed))
    report.seconds = time.perf_counter() - started
    return report
