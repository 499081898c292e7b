"""``garrison eval ueba`` on the demo scenario: generated in-process, labels joined to the
events by file and line, recall of the labelled attack entities and FP per 10k benign."""

from __future__ import annotations

import pytest

from garrison.detect.ml.ueba import UebaConfig
from garrison.measure.ml_eval import ueba_eval


@pytest.fixture(scope="module")
def demo() -> dict:
    return ueba_eval.evaluate_demo(UebaConfig()).as_dict()


def test_demo_labels_reach_the_auth_events(demo):
    assert demo["attack_events"] >= 50  # spraying + SSH guessing + the admin's logons
    assert demo["benign_events"] >= 1000
    stages = demo["stages"]
    assert {"password-spray", "ssh-brute-force", "lateral-movement"} <= set(stages)
    assert all(s["auth_events"] > 0 for s in stages.values())


def test_demo_recall_and_false_positive_rate_are_reported(demo):
    recall = demo["recall"]
    assert {"attack_events", "users", "hosts", "ips"} <= set(recall)
    assert all(recall[k]["total"] > 0 for k in ("users", "hosts", "ips"))
    assert demo["fp_per_10k_benign"] is not None
    assert demo["findings"] == demo["true_positives"] + demo["false_positives"]
    # password spraying is what UEBA is for: it must be found in the demo
    assert "ml.ueba.spraying" in demo["stages"]["password-spray"]["detected_by"]
    assert recall["attack_events"]["found"] >= 44


def test_demo_evaluation_is_deterministic(demo):
    again = ueba_eval.evaluate_demo(UebaConfig()).as_dict()
    for key in ("events", "attack_events", "benign_events", "findings", "recall", "stages"):
        assert again[key] == demo[key]
