"""``ModelService``: training and registration audited on the service, with the identity
the service was opened for (the REST API will pass an authenticated user; the CLI passes the
OS account), whichever interface calls it."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from garrison.core.errors import GarrisonError, InputError, UsageError
from garrison.detect.ml.text import TrainRequest
from garrison.govern.audit import MemoryAuditLog
from garrison.measure.training import ModelService


def _service(home: Path) -> tuple[ModelService, MemoryAuditLog]:
    log = MemoryAuditLog()
    return ModelService(home, log, actor="alice@soc"), log


def test_a_failed_training_run_is_audited_with_the_given_actor(tmp_path: Path) -> None:
    service, log = _service(tmp_path)
    request = TrainRequest(data=tmp_path / "missing", out=tmp_path / "models")
    with pytest.raises(InputError):
        service.train("dga", request, lambda _line: None)
    (entry,) = log.entries()
    assert (entry.action, entry.target, entry.actor) == ("models.train", "dga", "alice@soc")
    assert entry.outcome == "error:InputError"


def test_an_unknown_model_is_a_usage_error_and_audited(tmp_path: Path) -> None:
    service, log = _service(tmp_path)
    with pytest.raises(UsageError, match="trainable models are"):
        service.train("nosuch", TrainRequest(tmp_path, tmp_path / "m"), lambda _line: None)
    assert [e.outcome for e in log.entries()] == ["error:UsageError"]


def test_a_calibration_refuses_text_model_options(tmp_path: Path) -> None:
    service, _ = _service(tmp_path)
    request = TrainRequest(tmp_path, tmp_path / "m", seed=3)
    with pytest.raises(UsageError, match="takes --data and --out only"):
        service.train("beacon-calibration", request, lambda _line: None)


def test_registering_a_pickle_is_refused_and_audited(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "dga.pkl").write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    service, log = _service(tmp_path / "home")
    with pytest.raises(GarrisonError):
        service.register("dga", folder)
    (entry,) = log.entries()
    assert entry.action == "models.register" and entry.actor == "alice@soc"
    assert entry.outcome.startswith("error:")
