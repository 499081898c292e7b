"""What an attack is and what it reports: the contract every red-team attack keeps.

An attack has a name, a kind (``evasion``, ``extraction`` or ``poisoning``) and one method,
``run(target, budget, seed)``, that attacks the undefended and the defended version of the
same model with the same points, budget and seed and returns an ``AttackResult``: one
``Outcome`` per side (success rate, perturbation statistics, queries used) and notes saying
what the figures rest on (a surrogate, an approximation). Kinds other than evasion fill the
fields that apply to them and leave the rest ``None``; ``extra`` holds their own figures.

The ``Target`` is the model under attack, built once per run by the model's target builder
and shared by all attacks: ``part(key, build)`` caches what each kind needs (the evasion
setup, a served model, a training set), so an extraction or poisoning attack adds its own
part without the evasion code knowing about it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

KINDS = ("evasion", "extraction", "poisoning")
T = TypeVar("T")


@dataclass(slots=True)
class Outcome:
    """One side (undefended or defended) of one attack."""

    points: int
    #: Share of attacked points the attack turned into a wrong verdict.
    success_rate: float
    #: Median perturbation over the successful points, in the target's attack space.
    median_l2: float | None = None
    median_linf: float | None = None
    #: Median L2 the attacker needs over *all* points, a point the attack failed on
    #: counting as out of reach (None when it failed on half of them or more): the figure
    #: compared between the two sides, since medians over successes alone reward a defence
    #: that only lets the easy points through.
    needed_l2: float | None = None
    #: Share of the successful points whose adversarial input passed the target's
    #: realisability check (see the target's notes for what that check covers).
    realisable_rate: float | None = None
    #: Queries to the attacked model, in total and per point.
    queries: int = 0
    #: The attacked model's clean figures (accuracy at its threshold, AUC).
    clean: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def queries_per_point(self) -> float:
        return self.queries / self.points if self.points else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "points": self.points,
            "success_rate": self.success_rate,
            "median_l2": self.median_l2,
            "median_linf": self.median_linf,
            "needed_l2": self.needed_l2,
            "realisable_rate": self.realisable_rate,
            "queries": self.queries,
            "queries_per_point": round(self.queries_per_point, 1),
            "clean": self.clean,
            **({"extra": self.extra} if self.extra else {}),
        }


@dataclass(slots=True)
class AttackResult:
    attack: str
    kind: str
    undefended: Outcome
    defended: Outcome
    budget: int
    seed: int
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def perturbation_ratio(self) -> float | None:
        """Defended over undefended ``needed_l2``: how much farther the attacker must go.
        None when the attack fails on half of the points or more even undefended (nothing
        to compare), infinite when it does so only against the defended side."""
        u, d = self.undefended.needed_l2, self.defended.needed_l2
        if u is None or u <= 0:
            return None
        return math.inf if d is None else d / u

    def to_json(self) -> dict[str, Any]:
        ratio = self.perturbation_ratio
        return {
            "attack": self.attack,
            "kind": self.kind,
            "budget": self.budget,
            "seed": self.seed,
            "seconds": round(self.seconds, 2),
            "undefended": self.undefended.to_json(),
            "defended": self.defended.to_json(),
            "needed_l2_ratio": _number(ratio),
            "notes": self.notes,
        }


def _number(value: float | None) -> float | str | None:
    """JSON has no infinity: an infinite ratio is written ``"inf"``."""
    if value is None:
        return None
    return "inf" if math.isinf(value) else round(value, 3)


@dataclass(slots=True)
class Target:
    """The model under attack: its name, the data it is attacked with, and cached parts."""

    name: str
    corpus: Path
    #: How many points each attack runs on (malicious points the undefended model flags).
    points: int
    seed: int
    #: Corpus rows drawn per class group (DGA family, benign list...) to build the target.
    per_group: int = 1500
    notes: list[str] = field(default_factory=list)
    _parts: dict[str, Any] = field(default_factory=dict)

    def part(self, key: str, build: Callable[[Target], T]) -> T:
        """The part ``key``, built by ``build(self)`` on first use."""
        if key not in self._parts:
            self._parts[key] = build(self)
        value: T = self._parts[key]
        return value


class Attack(Protocol):
    """A red-team attack (see the module docstring)."""

    name: str
    kind: str

    def run(self, target: Target, budget: int, seed: int) -> AttackResult: ...
