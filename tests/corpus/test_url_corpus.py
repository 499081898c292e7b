"""The shipped phishing-URL model on its corpus: the card's figures are reproduced.

1. The card's calibration-site metrics: the held-out sites are re-derived from the card's
   seed and the shipped model rescored on them (exact up to float noise).
2. The card's domain-disjoint evaluation: the shipped recipe is retrained on the training
   part of the split by registered domain and must land within tolerance of the card.
3. The shipped model does not read the corpus's collection artefacts: the same URL with
   or without ``https://www.`` gets the same score.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from garrison.detect.ml.url.data import UrlSet, group_split, load_urls
from garrison.detect.ml.url.model import card_path, load_model, shipped_model_path
from garrison.detect.ml.url.train import TrainParams, metrics
from garrison.measure.ml_eval.url_eval import EvalConfig, _run, _splits, rewrite

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def card() -> dict:
    return json.loads(card_path(shipped_model_path()).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def data(corpus: Path, card: dict) -> UrlSet:
    loaded = load_urls(corpus / "phishing-urls")
    if loaded.fingerprint != card["training_data"]["fingerprint_sha256"]:
        pytest.fail("the corpus differs from the one the shipped model was trained on")
    return loaded


def test_calibration_figures_reproduced(data: UrlSet, card: dict) -> None:
    params = TrainParams(**card["params"])
    rng = np.random.default_rng(params.seed)
    _, cal_idx = group_split(data.sites, params.calibration_share, rng)
    cal = data.take(cal_idx)
    model = load_model()
    got = metrics(cal.labels, model.score(cal.urls)[0], model.threshold)
    want = card["metrics"]["calibration_sites"]
    assert got["n"] == want["n"]
    for key in ("auc", "accuracy", "recall", "fpr_at_threshold"):
        assert got[key] == pytest.approx(want[key], abs=1e-3), key


def test_domain_split_reproduced(data: UrlSet, card: dict) -> None:
    want = card["evaluation_summary"]["by_domain"]["model"]
    params = TrainParams(**card["params"])
    train_idx, test_idx = _splits(data, EvalConfig(params=params))["by_domain"]
    got = _run(data.take(train_idx), data.take(test_idx), params)
    assert got["auc"] == pytest.approx(want["auc"], abs=3e-3)
    assert got["recall_at_1pct_fpr"] == pytest.approx(want["recall_at_1pct_fpr"], abs=0.02)
    assert got["fpr_at_threshold"] == pytest.approx(want["fpr_at_threshold"], abs=0.01)
    assert got["auc"] >= 0.98  # floor: the domain-disjoint AUC must not regress below this


def test_scheme_and_www_do_not_move_scores(data: UrlSet) -> None:
    model = load_model()
    sample = data.urls[::50]
    base = model.score(sample)[0]
    for https_www in (True, False):
        moved = model.score([rewrite(u, https_www) for u in sample])[0]
        assert np.allclose(base, moved, atol=1e-9)
