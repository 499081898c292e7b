"""Extraction attacks of ``garrison models redteam`` against the shipped DGA model through
the serving guard, on synthetic name pools (no corpus; seconds).

With the guard's extraction test on, ART's KnockoffNets (random vectors) must be flagged
before 500 queries while its copy still agrees under 0.85 with our model, and the report
must judge issue 13's bar met; with the test switched off it must not be flagged and the
bar must be missed, so the test fails if the defence stops working.
"""

from __future__ import annotations

import string
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from garrison.govern.serving import GuardConfig
from garrison.measure.extraction_eval import Pools, features, victim_labels
from garrison.measure.redteam.contract import AttackResult, Target
from garrison.measure.redteam.extraction import ExtractionAttack, knockoff, logging_guard
from garrison.measure.redteam.service import RedTeamReport

pytest.importorskip("art", reason="ART is the redteam extra")
WORDS = (
    "mail", "shop", "news", "cloud", "bank", "home", "data", "play", "tech", "blog",
    "city", "food", "book", "team", "live", "star", "photo", "music", "travel", "health",
)  # fmt: skip


def _names(rng: np.random.Generator, n: int, dga: bool) -> list[str]:
    if dga:
        chars = list(string.ascii_lowercase + string.digits)
        return ["".join(rng.choice(chars, int(rng.integers(10, 20)))) + ".com" for _ in range(n)]
    return ["".join(rng.choice(WORDS, int(rng.integers(1, 3)))) + ".com" for _ in range(n)]


def _borderline(rng: np.random.Generator, n: int) -> list[str]:
    """Words with 0-9 random characters appended: names on both sides of the boundary,
    where a copy trained on few answers disagrees with the model."""
    chars = list(string.ascii_lowercase + string.digits)
    return [str(rng.choice(WORDS)) + "".join(rng.choice(chars, int(rng.integers(0, 10))))
            + ".net" for _ in range(n)]  # fmt: skip


@pytest.fixture(scope="module")
def served() -> tuple[Any, Pools]:
    from garrison.detect.ml.textmodels import text_model

    with tempfile.TemporaryDirectory() as home:
        model = text_model("dga").load(None, Path(home))
    rng = np.random.default_rng(0)
    benign, dga = features(model, _names(rng, 400, False)), features(model, _names(rng, 400, True))
    test_x = features(model, _borderline(rng, 400))
    rest = np.concatenate([benign[200:], dga[200:]])  # the range uniform thieves draw from
    pools = Pools(rest, dga[200:], rest, test_x,
                  victim_labels(model, test_x))  # fmt: skip
    return model, pools


def _run(served: tuple[Any, Pools], attack: ExtractionAttack) -> AttackResult:
    target = Target("dga", Path("."), 1, 0)
    target.part("served", lambda _t: served)
    return attack.run(target, 400, 0)


def test_the_guard_flags_the_thief_early_and_the_bar_is_met(served: tuple[Any, Pools]) -> None:
    result = _run(served, knockoff())
    report = RedTeamReport("dga", [result])
    flagged_at = result.defended.extra["queries_until_flagged"]
    assert flagged_at is not None and flagged_at < 500, result
    assert result.defended.queries == flagged_at and result.undefended.queries == 400
    assert result.defended.extra["agreement"] < 0.85, result
    assert result.undefended.success_rate > result.defended.success_rate, "undefended steals more"
    assert report.done(result) is True
    assert report.to_json()["attacks"][0]["done"] is True


def test_without_the_extraction_test_the_thief_is_not_flagged(served: tuple[Any, Pools]) -> None:
    def off() -> GuardConfig:
        config = logging_guard()
        config.extraction.enabled = False
        return config

    attack = knockoff()
    attack.guard = off
    result = _run(served, attack)
    assert result.defended.extra["queries_until_flagged"] is None
    assert result.defended.success_rate == result.undefended.success_rate
    assert RedTeamReport("dga", [result]).done(result) is False
