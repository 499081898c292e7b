"""Poisoning attacks of ``garrison models redteam`` on a small synthetic text model (seconds).

The subject is a character n-gram logistic regression on two kinds of strings (benign:
syllables; malicious: consonant and digit noise), driven through the real evaluation
(``garrison.measure.poisoning``: ART's backdoor, the flips, the training checks'
label-consistency test). With the defence the red-team report must judge issue 13's bar
met for every poison; with the defence switched off (a cut-off nothing passes) the poison
must bite and the bar must be missed, so the test fails if the defence stops working.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from garrison.measure.poisoning import KINDS, evaluate
from garrison.measure.redteam.contract import AttackResult, Target
from garrison.measure.redteam.poisoning import backdoor, flip_random, flip_targeted
from garrison.measure.redteam.service import RedTeamReport

pytest.importorskip("art", reason="ART is the redteam extra")
SYLLABLES = ("ba", "ko", "ri", "me", "lu", "sa", "te", "no", "pi", "da", "ve", "mo")
NOISE = list("bcdfghjklmnpstvw012345689")


class TextSubject:
    """Strings labelled benign (0) or malicious (1); the trigger is ``qz7x``, which
    neither class ever contains."""

    name = "synthetic"

    def split(self, rng: np.random.Generator) -> tuple[Any, Any, Any]:
        return self._part(rng, 400), self._part(rng, 400), self._part(rng, 300)

    @staticmethod
    def _part(rng: np.random.Generator, n: int) -> tuple[list[str], np.ndarray]:
        y = (rng.random(n) < 0.5).astype(np.int64)
        items = [
            "".join(rng.choice(NOISE, int(rng.integers(8, 16))))
            if label
            else "".join(rng.choice(SYLLABLES, int(rng.integers(3, 7))))
            for label in y.tolist()
        ]
        return items, y

    def fit(self, items: Sequence[Any], y: np.ndarray) -> Pipeline:
        vec = HashingVectorizer(analyzer="char", ngram_range=(2, 4), n_features=1 << 14)
        model = make_pipeline(vec, LogisticRegression(C=10.0, solver="liblinear"))
        return model.fit(list(items), y)

    def predict(self, model: Any, items: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        if not len(items):
            return np.zeros(0), np.zeros(0, dtype=bool)
        p = model.predict_proba(list(items))[:, 1]
        return p, p >= 0.5

    def trigger(self, item: Any) -> Any:
        return item[:3] + "qz7x" + item[3:]

    def text(self, item: Any) -> str:
        return str(item)


def _results(above: float) -> list[AttackResult]:
    target = Target("synthetic", Path("."), 1, 0)
    target.part("poisoning", lambda _t: evaluate(TextSubject(), KINDS, 0.05, 0, above))
    return [make().run(target, 100, 0) for make in (flip_random, flip_targeted, backdoor)]


@pytest.fixture(scope="module")
def defended() -> list[AttackResult]:
    return _results(0.7)


def test_with_the_defence_every_poison_meets_the_issue_13_bar(
    defended: list[AttackResult],
) -> None:
    report = RedTeamReport("synthetic", defended)
    for result in defended:
        extra = result.defended.extra
        assert result.kind == "poisoning" and result.undefended.points == 20, result
        assert extra["poison_found"] >= 0.9 and extra["false_positives"] <= 0.05, result
        assert result.defended.success_rate <= 0.05, result
        assert report.done(result) is True
        assert report.to_json()["attacks"][defended.index(result)]["done"] is True


def test_the_backdoor_bites_undefended(defended: list[AttackResult]) -> None:
    bd = next(r for r in defended if r.attack == "backdoor")
    assert bd.undefended.success_rate >= 0.5, bd
    assert bd.defended.success_rate < bd.undefended.success_rate


def test_without_the_defence_the_bar_is_missed() -> None:
    report = RedTeamReport("synthetic", _results(1.01))  # the check flags nothing
    assert [report.done(r) for r in report.results] == [False, False, False]
    bd = next(r for r in report.results if r.attack == "backdoor")
    assert bd.defended.success_rate >= 0.5, "no defence: the backdoor must stay open"
