"""Evasion attacks and the ball-augmentation defence on a small synthetic target (seconds).

The defence must at least double the median L2 HopSkipJump needs at no more than one point
of clean accuracy; the same check with the defence switched off (radius 0) must fail, so
the test cannot pass on an attack that merely got weaker. The attacks must never change a
feature the attacker does not control, and must count their queries.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.measure.redteam.contract import AttackResult, Target
from garrison.measure.redteam.evasion import decision_tree, hop_skip_jump, zoo
from garrison.measure.redteam.service import RedTeamReport
from garrison.measure.redteam.space import AnchoredModel, EvasionSetup

from . import synthetic


@pytest.fixture(scope="module")
def defended() -> EvasionSetup:
    return synthetic.setup(points=20, radius=0.3)


def _target(setup: EvasionSetup) -> Target:
    target = Target("synthetic", Path("."), len(setup.points), 0)
    target.part("evasion", lambda _t: setup)
    return target


def _hsj(setup: EvasionSetup) -> AttackResult:
    return hop_skip_jump().run(_target(setup), 400, 0)


def test_defence_doubles_the_perturbation_hop_skip_jump_needs(defended: EvasionSetup) -> None:
    result = _hsj(defended)
    assert result.undefended.success_rate == 1.0  # undefended trees fall to every point
    ratio = result.perturbation_ratio
    assert ratio is not None and ratio >= 2.0, result.to_json()
    loss = defended.undefended.clean["accuracy"] - defended.defended.clean["accuracy"]
    assert loss <= 0.01
    assert RedTeamReport("synthetic", [result]).done(result) is True


def test_without_the_defence_the_bar_is_not_met() -> None:
    result = _hsj(synthetic.setup(points=12, radius=0.0))
    ratio = result.perturbation_ratio
    assert ratio is not None and ratio < 1.5
    assert RedTeamReport("synthetic", [result]).done(result) is False


@pytest.mark.parametrize("make", [hop_skip_jump, zoo, decision_tree])
def test_attacks_leave_uncontrolled_features_alone_and_count_queries(
    make: object, defended: EvasionSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[np.ndarray] = []
    original = AnchoredModel.raw

    def spy(self: AnchoredModel, u: np.ndarray) -> np.ndarray:
        out = original(self, u)
        seen.append(out[:, ~self.setup.controlled] - self.anchor[~self.setup.controlled])
        return out

    monkeypatch.setattr(AnchoredModel, "raw", spy)
    few = synthetic.setup(points=3, radius=0.0)
    result = make().run(_target(few), 120, 1)  # type: ignore[operator]
    assert seen and all(np.all(d == 0) for d in seen)
    for side in (result.undefended, result.defended):
        assert side.points == 3
        assert 0 < side.queries <= 3 * 400  # within a bounded multiple of the budget


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=6, max_size=6))
def test_the_anchored_model_puts_back_what_the_attacker_does_not_control(
    u: list[float],
) -> None:
    anchor = np.array([0.1, 0.2, 0.3, 0.4, 0.5, np.nan])
    fixed = synthetic.setup(points=3, radius=0.0)
    model = AnchoredModel(fixed, fixed.undefended)
    model.at(anchor)
    raw = model.raw(np.array(u))[0]
    assert raw[4] == 0.5 and np.isnan(raw[5])
    assert np.all((raw[:4] >= 0) & (raw[:4] <= 1))
    scores = model.scores(np.array([u]))
    assert scores.shape == (1, 2) and model.queries == 1
