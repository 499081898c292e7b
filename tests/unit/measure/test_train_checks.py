"""``garrison models train`` runs the training-data checks before it registers: a clean
set registers (the card records the checks, the approved profile is kept), a poisoned,
drifted or invalid set fails with one line per failed check, exit 1, nothing registered."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from garrison.detect.ml.text import TrainRequest
from garrison.govern.audit import MemoryAuditLog
from garrison.govern.registry.store import HomeRegistry
from garrison.measure.canaries import canaries, run_canaries
from garrison.measure.train_checks import TrainingChecks, profile_path, write_profile
from tests.models_cli import invoke

HAM = ["meeting", "report", "agenda", "lunch", "project", "review", "budget", "team", "notes"]
SPAM = ["winner", "free", "money", "click", "prize", "urgent", "offer", "cash", "lottery", "claim"]
OTHER = ["invoice", "shipment", "tracking", "delivery", "parcel", "customs", "order", "refund"]


def _corpus(folder: Path, flip: float = 0.0, ham_words: list[str] = HAM, n: int = 160) -> Path:
    """A small labelled corpus in the training format; ``flip`` of the labels swapped."""
    rng = random.Random(3)
    rows = []
    flipped = set(rng.sample(range(n), round(flip * n)))
    for i in range(n):
        spam = i % 2
        words = SPAM if spam else ham_words
        body = " ".join(rng.choice(words) for _ in range(40))
        subject = " ".join(rng.choice(words) for _ in range(4))
        links = "\n<a href='http://x.test/'>x</a>" * (3 if ham_words is OTHER else 0)
        head = f"From: a{i}@example.org\nSubject: {subject}\nContent-Type: text/plain\n\n"
        text = f"{head}{body}{links}\n"
        label = 1 - spam if i in flipped else spam
        rows.append({"id": str(i), "group": f"g{i % 2}", "label": label, "text": text})
    folder.mkdir(parents=True)
    (folder / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return folder


def _registered(home: Path) -> list[str]:
    with HomeRegistry.open(home, create=False) as registry:
        return [] if registry is None else [e.name for e in registry.entries()]


def _train(data: Path, home: Path) -> tuple[int, str]:
    return invoke(["models", "train", "email", "--data", str(data), "--home", str(home)])


def _before(data: Path, home: Path) -> TrainingChecks:
    request = TrainRequest(data, home / "models")
    return TrainingChecks.before("email", request, home, lambda _line: None)


@pytest.mark.slow
def test_a_clean_set_registers_and_records_its_checks(tmp_path: Path, home: Path):
    code, out = _train(_corpus(tmp_path / "clean"), home)
    assert code == 0, out
    assert "registered email" in out
    card = json.loads((home / "models" / "email.card.json").read_text())
    passed = " ".join(card["training_checks"]["passed"])
    assert "check schema: ok" in passed and "check canaries: ok" in passed
    approved = profile_path(home, "email")
    assert (
        hashlib.sha256(approved.read_bytes()).hexdigest()
        == (card["training_checks"]["profile_sha256"])
    )
    assert invoke(["models", "verify", "--home", str(home)])[0] == 0
    # the same set again is compared with the approved profile, and does not drift
    checks = _before(_corpus(tmp_path / "again"), home)
    assert any("check drift: ok" in line for line in checks.outcome.said)


def test_flipped_labels_fail_the_run_and_nothing_is_registered(tmp_path: Path, home: Path):
    code, out = _train(_corpus(tmp_path / "flipped", flip=0.15), home)
    assert code == 1, out
    assert "training-data check(s) failed (labels); no model from this run is registered" in out
    assert _registered(home) == []
    assert not profile_path(home, "email").exists()
    assert not (home / "models" / "email.skops").exists(), "a failed set is never trained on"


def test_a_drifted_set_fails_against_the_approved_profile(tmp_path: Path, home: Path):
    checks = _before(_corpus(tmp_path / "first"), home)
    assert checks.profile is not None
    write_profile(checks.profile, profile_path(home, "email"))
    code, out = _train(_corpus(tmp_path / "drifted", ham_words=OTHER), home)
    assert code == 1, out
    assert "failed (drift" in out
    assert _registered(home) == []


def test_an_invalid_set_fails_the_schema(tmp_path: Path, home: Path):
    folder = _corpus(tmp_path / "bad")
    lines = (folder / "train.jsonl").read_text().splitlines()
    lines += [json.dumps({"id": f"x{i}", "group": "g", "label": 5, "text": "t"}) for i in range(20)]
    (folder / "train.jsonl").write_text("\n".join(lines) + "\n")
    code, out = _train(folder, home)
    assert code == 1 and "failed (schema)" in out, out
    assert _registered(home) == []


def test_the_shipped_models_pass_their_canaries():
    from garrison.detect.ml.artifacts import shipped_model_path

    for name in ("dga", "url", "email"):
        assert len(canaries(name)) >= 2
        wrong, total = run_canaries(name, shipped_model_path(f"{name}.skops"))
        assert wrong == [] and total == len(canaries(name)), wrong


def test_canary_files_are_checked():
    from garrison.core.errors import InputError

    for text in ("model: url\ncanaries: []\n", "model: dga\ncanaries:\n  - {input: a.com}\n", "[]"):
        with pytest.raises(InputError):
            canaries("dga" if "dga" in text else "url", text)


def test_a_failed_check_is_audited(tmp_path: Path, home: Path):
    from garrison.detect.ml.text import TrainRequest
    from garrison.measure.train_checks import TrainingChecksFailed
    from garrison.measure.training import ModelService

    log = MemoryAuditLog()
    service = ModelService(home, log, actor="alice@soc")
    data = _corpus(tmp_path / "flipped", flip=0.2)
    with pytest.raises(TrainingChecksFailed):
        service.train("email", TrainRequest(data, home / "models"), lambda _l: None)
    (entry,) = log.entries()
    assert entry.outcome == "error:TrainingChecksFailed"
