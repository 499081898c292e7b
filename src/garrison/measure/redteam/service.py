"""``garrison models redteam NAME``: run a selection of attacks against one model.

The service builds the model's target once (the attacked points, both sides of the model)
and runs each selected attack with the same budget and seed against it, undefended and
defended; the report lists one result per attack and whether the defence held issue 13's
promise for its kind (``done``): for evasion the median perturbation the attacker needs at
least doubles and clean accuracy drops by at most one percentage point; for extraction the
guard flags the thief before 500 queries while its copy agrees under 0.85 with our model;
for poisoning at least 90 % of the poison is found with at most 5 % false positives and
the defended model's attack success rate is at most 5 %. An attack that declares the
models it applies to (``models``) is skipped for others when all attacks run, and is a
usage error when asked for by name or kind.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.core.errors import UsageError
from garrison.measure.redteam import extraction, poisoning
from garrison.measure.redteam.contract import Attack, AttackResult, Target
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
    #: Attacks not run, with the reason (an attack that does not apply to this model).
    skipped: dict[str, str] = field(default_factory=dict)

    def done(self, result: AttackResult) -> bool | None:
        """Whether the defence met issue 13's bar for the attack's kind (module docstring);
        None when the evasion bar does not apply (the attack fails on half of the points or
        more even against the undefended model)."""
        if result.kind == "extraction":
            return extraction.done(result)
        if result.kind == "poisoning":
            return poisoning.done(result)
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
            "skipped": self.skipped,
        }


def run_redteam(request: RedTeamRequest) -> RedTeamReport:
    """Run the selected attacks (see module docstring)."""
    request.check()
    chosen = select(request.attacks)
    report = RedTeamReport(request.name)
    attacks = _applicable([entry.build() for entry in chosen], request, report)
    target = Target(request.name, request.corpus, request.points, request.seed,
                    per_group=request.per_group)  # fmt: skip
    started = time.perf_counter()
    for attack in attacks:
        report.results.append(attack.run(target, request.budget, request.seed))
    report.seconds = time.perf_counter() - started
    return report


def _applicable(
    attacks: list[Attack], request: RedTeamRequest, report: RedTeamReport
) -> list[Attack]:
    """The attacks that apply to the model; the others are noted as skipped, or refused
    when the selection names nothing else."""
    out: list[Attack] = []
    for attack in attacks:
        models: tuple[str, ...] | None = getattr(attack, "models", None)
        if models is None or request.name in models:
            out.append(attack)
        else:
            report.skipped[attack.name] = f"applies to {', '.join(models)} only"
    if not out:
        raise UsageError(
            f"--attacks {request.attacks}: none applies to model {request.name!r} "
            f"({'; '.join(f'{k}: {v}' for k, v in report.skipped.items())})"
        )
    return out
