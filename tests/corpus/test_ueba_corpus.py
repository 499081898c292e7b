"""ml.ueba on OpenSSH brute force, LANL red team over generated background, and Mordor."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.detect.ml.ueba import UebaConfig
from garrison.measure.ml_eval import ueba_eval

pytestmark = pytest.mark.corpus


def test_openssh_bruteforce(corpus: Path) -> None:
    r = ueba_eval.evaluate_openssh(corpus, UebaConfig()).as_dict()
    assert r["false_positives"] == 0
    assert r["recall"]["attack_events"]["recall"] >= 0.9
    # every source with ten or more failures is named
    assert r["recall"]["sources"]["found"] >= 12
    kinds = set(r["by_analytic"])
    assert {"ml.ueba.bruteforce", "ml.ueba.spraying"} <= kinds


def test_lanl_red_team_over_background(corpus: Path) -> None:
    r = ueba_eval.evaluate_lanl(corpus, UebaConfig(), users=300).as_dict()
    assert r["attack_events"] == 749
    assert r["recall"]["accounts"]["recall"] >= 0.9
    assert r["recall"]["attack_events"]["recall"] >= 0.5
    assert r["recall"]["sources"]["found"] >= 3
    assert r["fp_per_10k_benign"] <= 40
    assert r["by_analytic"]["ml.ueba.fanout"]["tp"] >= 5


def test_mordor_cold_start_is_silent_and_warm_baseline_names_the_movement(corpus: Path) -> None:
    results = {s.name: s.as_dict() for s in ueba_eval.evaluate_mordor(corpus, UebaConfig())}
    cold = [r for name, r in results.items() if name.endswith("(cold)")]
    assert cold and all(r["findings"] == 0 for r in cold)
    warm = [r for name, r in results.items() if "lateral_movement" in name and "baseline" in name]
    assert len(warm) == 3
    for r in warm:
        assert r["recall"]["accounts"]["found"] == 1 and r["recall"]["targets"]["found"] == 1
