"""Anomaly estimators on ADBench (subsampled for speed; the full run is `garrison eval
anomaly`), against scikit-learn's IsolationForest as the floor."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.measure.ml_eval.anomaly_eval import evaluate, evaluate_detector_on_zeek

pytestmark = pytest.mark.corpus


def test_estimators_against_the_floor(corpus: Path) -> None:
    r = evaluate(corpus, seeds=[0], max_rows=1500)
    assert len(r["sets"]) == 13
    floor = r["summary"]["sklearn_iforest_floor"]["mean_auc"]
    assert r["summary"]["iforest"]["mean_auc"] >= floor - 0.01
    for row in r["sets"]:
        assert abs(row["iforest"]["auc"] - row["sklearn_iforest_floor"]["auc"]) < 0.06
    # HalfSpaceTrees is a streaming model; on static tables it sits below the floor.
    assert r["summary"]["hst"]["mean_auc"] >= 0.65


def test_detector_on_labelled_captures(corpus: Path) -> None:
    captures = {c["capture"]: c for c in evaluate_detector_on_zeek(corpus)}
    for name in ("008-zeek-mixed", "010-zeek-mixed"):
        found = captures[name]["findings"]
        assert found
        malicious = [f for f in found if "Malicious" in f["labels_of_source"]]
        assert len(malicious) >= len(found) - 2
    assert captures["002-zeek-scenario-port-scanning"]["findings"] == []
