"""The confidence calibrations on the labelled corpus: the eval reports leave-one-capture-out
quality, the training command reproduces the shipped files, and the shipped files are not
stale for the corpus and code they claim to come from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from garrison.detect.ml.calibration import Calibration, shipped_path
from garrison.interfaces.cli.models import models_app
from garrison.measure.ml_eval import beacon_eval, ueba_eval
from garrison.measure.ml_eval.calibrate import train_beacon, train_ueba

pytestmark = pytest.mark.corpus

STALE = (
    "the shipped {name} calibration does not match what the code fits on this corpus: "
    "rerun `garrison models train {name}-calibration --data ../shared/corpus "
    "--out src/garrison/detect/ml/models`"
)


def _same_fit(fresh: Calibration, name: str) -> None:
    shipped = json.loads(shipped_path(name).read_text(encoding="utf-8"))
    got = fresh.to_json()
    assert got["fitted_on"]["fingerprint_sha256"] == shipped["fitted_on"]["fingerprint_sha256"]
    assert got["fitted_on"]["per_capture"] == shipped["fitted_on"]["per_capture"], STALE.format(
        name=name
    )
    for key in ("slope", "intercept"):
        assert got["parameters"][key] == pytest.approx(shipped["parameters"][key], abs=1e-6), (
            STALE.format(name=name)
        )
    assert got["parameters"]["offsets"] == pytest.approx(shipped["parameters"]["offsets"], abs=1e-6)


def test_beacon_eval_reports_calibration_and_it_beats_the_raw_tail(corpus: Path) -> None:
    cal = beacon_eval.evaluate(corpus)["calibration"]
    assert cal["records"] >= 100 and 1 <= cal["positives"] <= 10
    assert cal["excluded_unknown"] > 0  # 005: host-level truth only
    loco = cal["leave_one_capture_out"]
    assert sum(b["count"] for b in loco["reliability"]) == cal["records"]
    # 1 - p read as a probability is far too confident; the calibrated map is not
    assert loco["brier"] < cal["raw_tail_confidence_as_probability"]["brier"] / 5
    assert "only" in cal["warning"]


def test_beacon_training_reproduces_the_shipped_file(corpus: Path) -> None:
    _same_fit(train_beacon(corpus), "beacon")


def test_ueba_eval_reports_demo_and_calibration(corpus: Path) -> None:
    report = ueba_eval.evaluate(corpus)
    names = [s["set"] for s in report["sets"]]
    assert names[-1].startswith("demo scenario")
    cal = report["calibration"]
    assert cal["records"] >= 400 and cal["positives"] >= 200
    assert set(cal["per_held_out_capture"]) == {
        "openssh-loghub",
        "lanl-redteam over generated background",
        "mordor",
    }
    assert cal["demo_held_out"]["records"] == report["sets"][-1]["findings"]
    assert cal["per_analytic"]["success-after-failures"]["true_positives"] == 0


def test_ueba_training_reproduces_the_shipped_file(corpus: Path) -> None:
    _same_fit(train_ueba(corpus), "ueba")


def test_train_command_writes_the_calibration(corpus: Path, tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(models_app)
    result = CliRunner().invoke(
        app,
        ["models", "train", "beacon-calibration", "--data", str(corpus), "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    written = Calibration.load(tmp_path / "beacon.calibration.json")
    assert written.meta["fitted_on"]["positives"] >= 1
    assert "Brier" in result.stdout
