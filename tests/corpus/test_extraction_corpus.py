"""Extraction, bounded (the full figures: bench/bench_extraction.py): ART's KnockoffNets
and CopycatCNN through the serving guard are flagged before 500 queries while their copy
still disagrees with our model, and benign clients replaying real names are not flagged."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from garrison.govern.serving import GuardConfig
from garrison.measure.extraction_eval import Pools, benign_replay, load_pools, run_attack

pytest.importorskip("art", reason="ART is the redteam extra")
pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def served(corpus: Path) -> tuple[object, Pools]:
    from garrison.detect.ml.textmodels import text_model

    with tempfile.TemporaryDirectory() as home:
        model = text_model("dga").load(None, Path(home))
    return model, load_pools(corpus, model, seed=0, dga_n=4000)


def _logging() -> GuardConfig:
    config = GuardConfig(coarsen="full")
    config.extraction.on_flag = "log"
    return config


@pytest.mark.parametrize(
    ("attack", "thief"), [("knockoff", "uniform-vectors"), ("copycat", "random-names")]
)
def test_an_art_attack_is_flagged_before_500_queries(
    served: tuple[object, Pools], attack: str, thief: str
) -> None:
    model, pools = served
    result = run_attack(attack, thief, model, pools, _logging(), queries=400, batch=20)
    assert result.flagged_at is not None and result.flagged_at < 500
    assert result.agreement_at_flag is not None and result.agreement_at_flag < 0.85


def test_benign_clients_replaying_real_names_are_not_flagged(served: tuple[object, Pools]) -> None:
    model, pools = served
    result = benign_replay(model, pools, _logging(), clients=30, seed=3)
    assert result.queries > 3_000
    assert result.flagged == 0, result.flagged_reasons
