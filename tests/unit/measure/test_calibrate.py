"""Training a calibration file (``measure.ml_eval.calibrate``) without the corpus: the data
fingerprint, the metadata and warnings written beside the parameters, and the CLI's refusal
of a folder that is not the corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from typer.testing import CliRunner

from garrison.core.errors import InputError
from garrison.detect.ml.calibration import Calibration, Labelled
from garrison.interfaces.cli.models import models_app
from garrison.measure.ml_eval.calibrate import build, fingerprint


def test_fingerprint_follows_content_names_and_settings(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("one\n", encoding="utf-8")
    (tmp_path / "b.log").write_text("two\n", encoding="utf-8")
    files = [tmp_path / "b.log", tmp_path / "a.log"]
    first = fingerprint(tmp_path, files, {"seed": 7})
    assert first == fingerprint(tmp_path, list(reversed(files)), {"seed": 7})
    assert first["files"] == ["a.log", "b.log"]
    assert first != fingerprint(tmp_path, files, {"seed": 8})
    (tmp_path / "a.log").write_text("one!\n", encoding="utf-8")
    assert (
        first["fingerprint_sha256"]
        != fingerprint(tmp_path, files, {"seed": 7})["fingerprint_sha256"]
    )


def test_build_records_how_it_was_fitted_and_warns(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    records = [Labelled(f"cap{i % 3}", float(s), 0) for i, s in enumerate(rng.random(60))]
    records += [Labelled("cap0", 0.95, 1), Labelled("cap0", 0.9, 1)]
    cal = build("beacon", records, {"fingerprint_sha256": "0" * 64}, "ml.beacon", "beacon-1.0")
    meta = cal.meta
    assert meta["fitted_on"]["records"] == 62 and meta["fitted_on"]["positives"] == 2
    assert meta["fitted_on"]["per_capture"]["cap0"] == {"records": 22, "positives": 2}
    assert meta["method"].startswith("Platt") and meta["detector_version"] == "beacon-1.0"
    assert meta["evaluation"]["leave_one_capture_out"]["records"] == 62
    warnings = " ".join(meta["warnings"])
    assert "only 2 labelled positives" in warnings
    assert "every positive comes from one capture (cap0)" in warnings
    path = tmp_path / "beacon.calibration.json"
    cal.save(path)
    assert Calibration.load(path).to_json() == cal.to_json()


def test_train_command_refuses_a_folder_that_is_not_the_corpus(tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(models_app)
    result = CliRunner().invoke(
        app, ["models", "train", "ueba-calibration", "--data", str(tmp_path)]
    )
    assert isinstance(result.exception, InputError)
    assert "auth" in str(result.exception)
