"""Evasion attacks from ART, restricted to the features the attacker controls.

Each attack runs point by point on an ``AnchoredModel`` (see ``space``), so features the
attacker does not control are put back before the model is asked, whatever the attack
does; HopSkipJump also gets ART's own ``mask``. ``budget`` is the number of model queries
an attack may spend per point (the surrogate attack spends it on labelling its pool);
the queries actually made are counted and reported.

- ``hop_skip_jump``: decision-based (labels only), the strongest black-box attack here.
- ``zoo``: score-based, zeroth-order coordinate descent. Trees are piecewise constant, so a
  finite difference of 1e-4 sees no slope; the step is widened to ``variable_h`` = 0.02
  (2 % of a feature's range) so the attack sees the model at all.
- ``decision_tree``: Garrison's models are not single decision trees, so ART's
  ``DecisionTreeAttack`` runs on a surrogate tree fitted to the model's answers on the
  attacker's own pool, and its examples are transferred (success counted on the real model).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from garrison.measure.redteam.art import art_module
from garrison.measure.redteam.contract import AttackResult, Outcome, Target
from garrison.measure.redteam.space import F64, AnchoredModel, EvasionSetup, perturbation
from garrison.measure.redteam.targets import evasion_setup

#: One point's attack: (anchored model, scaled point, point mask, budget, seed) -> scaled
#: adversarial point.
PointAttack = Callable[[AnchoredModel, F64, F64, int, int], F64]


def _classifier(model: AnchoredModel) -> Any:
    est = art_module("estimators.classification")
    n = len(model.setup.features)
    # scalar clip values: ART's ZOO cannot broadcast per-feature ones (every feature is
    # scaled to [0, 1] anyway)
    return est.BlackBoxClassifier(model.scores, (n,), 2, clip_values=(0.0, 1.0))


def _hsj(model: AnchoredModel, u: F64, mask: F64, budget: int, seed: int) -> F64:
    start = _random_start(model, u, mask, np.random.default_rng(seed))
    if start is None:
        return u  # no benign-looking point in 100 random draws: the attack fails here
    attacks = art_module("attacks.evasion")
    max_eval = int(min(100, max(10, budget // 10)))
    init_eval = max(5, max_eval // 5)
    # per iteration: the gradient estimate (<= max_eval) and ~25 binary-search queries
    max_iter = max(1, (budget - 100) // (max_eval + 25))
    attack = attacks.HopSkipJump(
        _classifier(model), norm=2, max_iter=max_iter, max_eval=max_eval,
        init_eval=init_eval, init_size=100, verbose=False,
    )  # fmt: skip
    np.random.seed(seed % 2**32)  # ART draws its gradient directions from NumPy's global RNG
    x = u[None, :].astype(np.float32)
    out: F64 = attack.generate(
        x, y=np.array([1]), mask=mask[None, :].astype(np.float32),
        x_adv_init=start[None, :].astype(np.float32),
    )[0]  # fmt: skip
    return out


def _random_start(
    model: AnchoredModel, u: F64, mask: F64, rng: np.random.Generator, tries: int = 100
) -> F64 | None:
    """A seeded version of HopSkipJump's own start (uniform draws on the masked features
    until one is judged benign): ART draws it from an unseeded generator, which would make
    runs irreproducible."""
    for _ in range(tries):
        draw = rng.random(len(u)) * mask + u * (1 - mask)
        if model.scores(draw)[0, 1] < 0.5:
            return draw
    return None


def _zoo(model: AnchoredModel, u: F64, mask: F64, budget: int, seed: int) -> F64:
    del mask  # ART's ZOO has no mask: the anchored model puts the other features back
    attacks = art_module("attacks.evasion")
    nb_parallel = min(8, len(u))
    steps = 3
    max_iter = max(1, budget // (steps * (2 * nb_parallel + 2)))
    attack = attacks.ZooAttack(
        _classifier(model), confidence=0.0, learning_rate=0.2, max_iter=max_iter,
        binary_search_steps=steps, initial_const=1.0, abort_early=True, use_resize=False,
        use_importance=False, nb_parallel=nb_parallel, batch_size=1, variable_h=0.02,
        verbose=False,
    )  # fmt: skip
    np.random.seed(seed % 2**32)  # ART draws from NumPy's global generator
    out: F64 = attack.generate(u[None, :].astype(np.float32), y=np.array([[0.0, 1.0]]))[0]
    return out


@dataclass(slots=True)
class EvasionAttack:
    """An ART evasion attack run point by point against both sides of a target."""

    name: str
    point_attack: PointAttack
    kind: str = "evasion"
    note: str = ""

    def run(self, target: Target, budget: int, seed: int) -> AttackResult:
        setup = target.part("evasion", evasion_setup)
        started = time.perf_counter()
        sides = [self._side(setup, s, budget, seed) for s in ("undefended", "defended")]
        notes = [*setup.notes, *([self.note] if self.note else [])]
        return AttackResult(
            self.name, self.kind, sides[0], sides[1], budget, seed,
            time.perf_counter() - started, notes,
        )  # fmt: skip

    def _side(self, setup: EvasionSetup, side_name: str, budget: int, seed: int) -> Outcome:
        side = setup.side(side_name)
        model = AnchoredModel(setup, side)
        adv = np.empty_like(setup.points)
        for i, row in enumerate(setup.points):
            u = model.at(row)
            mask = model.free.astype(np.float64)
            adv[i] = model.raw(self.point_attack(model, u, mask, budget, seed + i))[0]
        return summarise(setup, side_name, setup.points, adv, model.queries)


def summarise(
    setup: EvasionSetup, side_name: str, x: F64, x_adv: F64, queries: int, **extra: Any
) -> Outcome:
    """Success, perturbation and realisability of adversarial rows against one side."""
    side = setup.side(side_name)
    evaded = ~side.flags(x_adv)
    l2, linf = perturbation(setup, x, x_adv)
    projected, valid = setup.realise(x, x_adv)
    realised = evaded & valid & ~side.flags(projected)
    n = len(x)
    hit = int(evaded.sum())
    needed = np.median(np.where(evaded, l2, np.inf)) if n else np.inf
    return Outcome(
        points=n,
        success_rate=round(hit / n, 4) if n else 0.0,
        median_l2=round(float(np.median(l2[evaded])), 4) if hit else None,
        median_linf=round(float(np.median(linf[evaded])), 4) if hit else None,
        needed_l2=round(float(needed), 4) if np.isfinite(needed) else None,
        realisable_rate=round(float(realised.sum()) / hit, 4) if hit else None,
        queries=queries,
        clean=dict(side.clean),
        extra=extra,
    )


@dataclass(slots=True)
class TreeTransferAttack:
    """ART's DecisionTreeAttack on a surrogate tree, transferred to the real model."""

    name: str = "decision_tree"
    kind: str = "evasion"
    max_depth: int = 12

    def run(self, target: Target, budget: int, seed: int) -> AttackResult:
        setup = target.part("evasion", evasion_setup)
        started = time.perf_counter()
        sides = [self._side(setup, s, budget, seed) for s in ("undefended", "defended")]
        note = (
            "decision_tree: Garrison's models are not single decision trees; ART's "
            "DecisionTreeAttack ran on a surrogate tree fitted to the model's verdicts on "
            "the attacker's pool (budget = pool size) and its examples were transferred, "
            "with uncontrolled features put back"
        )
        return AttackResult(
            self.name, self.kind, sides[0], sides[1], budget, seed,
            time.perf_counter() - started, [*setup.notes, note],
        )  # fmt: skip

    def _side(self, setup: EvasionSetup, side_name: str, budget: int, seed: int) -> Outcome:
        from sklearn.tree import DecisionTreeClassifier

        side = setup.side(side_name)
        rng = np.random.default_rng(seed)
        pool = setup.pool[rng.choice(len(setup.pool), min(budget, len(setup.pool)), False)]
        labels = side.flags(pool).astype(np.int64)
        if labels.min() == labels.max():
            return Outcome(len(setup.points), 0.0, queries=len(pool), clean=dict(side.clean))
        tree = DecisionTreeClassifier(max_depth=self.max_depth, random_state=seed)
        tree.fit(_filled(setup, pool), labels)
        est = art_module("estimators.classification.scikitlearn")
        attacks = art_module("attacks.evasion")
        attack = attacks.DecisionTreeAttack(
            est.ScikitlearnDecisionTreeClassifier(tree), offset=0.001, verbose=False
        )
        u = _filled(setup, setup.points).astype(np.float32)
        u_adv = attack.generate(u, y=np.zeros(len(u), dtype=np.int64))
        model = AnchoredModel(setup, side)
        adv = np.empty_like(setup.points)
        for i, row in enumerate(setup.points):
            model.at(row)
            adv[i] = model.raw(np.clip(u_adv[i], 0.0, 1.0))[0]
        agreement = float((tree.predict(_filled(setup, setup.points)) == 1).mean())
        return summarise(
            setup, side_name, setup.points, adv, len(pool),
            surrogate_flags_points=round(agreement, 4),
        )  # fmt: skip


def _filled(setup: EvasionSetup, x: F64) -> F64:
    """Scaled rows with undefined features at -0.05, below every defined value."""
    return np.nan_to_num(setup.scale(x), nan=-0.05)


def hop_skip_jump() -> EvasionAttack:
    return EvasionAttack("hop_skip_jump", _hsj)


def zoo() -> EvasionAttack:
    note = (
        "zoo: score-based finite differences with a 0.02 step (trees are flat at ART's "
        "default 1e-4); ART's ZOO takes no mask, the anchored model enforces it"
    )
    return EvasionAttack("zoo", _zoo, note=note)


def decision_tree() -> TreeTransferAttack:
    return TreeTransferAttack()
