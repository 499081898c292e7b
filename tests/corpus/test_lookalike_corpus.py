"""ml.lookalike on the corpus: benign-list false positives and phishing-host precision.

Floors sit under what the fixed thresholds measured on their first run (see the report of
``garrison eval lookalike``): 0.18 % of 21,496 benign domains flagged, precision 0.886 and
recall 0.0095 on 11,491 phishing hosts (most phishing hosts imitate nobody).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.measure.ml_eval.lookalike_eval import evaluate

pytestmark = [pytest.mark.corpus]


def test_benign_false_positives_and_phishing_precision(corpus: Path) -> None:
    report = evaluate(corpus)
    benign = report["benign"]
    assert benign["all"]["domains"] > 20_000
    assert benign["all"]["fp_rate"] <= 0.003
    assert all(row["fp_rate"] <= 0.005 for name, row in benign.items() if name != "all")
    phish = report["phishing_urls"]
    assert phish["precision"] >= 0.8
    assert phish["legitimate_fp_rate"] <= 0.002
    assert phish["true_positives"] >= 90
    assert phish["by_transformation"]["subdomain"]["precision"] >= 0.9
