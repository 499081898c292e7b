"""``garrison models train`` for the text models: the model package trains, the CLI
registers, and what was trained verifies.

The bug of issue 13: a model freshly trained with ``garrison models train email`` failed
``garrison models verify`` with "binding-conflict", because retraining the shipped recipe
gave the shipped version (data fingerprint + parameters) to other bytes. Every training run
now gets its own version (the recipe's, plus the run's UTC time).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from garrison.detect.ml.email import build
from garrison.detect.ml.email.model import load_model
from garrison.detect.ml.text import run_version
from garrison.govern.registry.manifest import shipped_folder
from garrison.govern.registry.store import HomeRegistry
from tests.models_cli import invoke

HAM = ["meeting", "report", "agenda", "lunch", "project", "review", "budget", "team", "notes"]
SPAM = ["winner", "free", "money", "click", "prize", "urgent", "offer", "cash", "lottery", "claim"]


@pytest.fixture()
def emails(tmp_path: Path) -> Path:
    """A small labelled corpus in the training format (``{id, group, label, text}``)."""
    rng = random.Random(3)
    rows = []
    for i in range(120):
        spam = i % 2
        words = SPAM if spam else HAM
        body = " ".join(rng.choice(words) for _ in range(40))
        subject = " ".join(rng.choice(words) for _ in range(4))
        text = f"From: a{i}@example.org\nSubject: {subject}\nContent-Type: text/plain\n\n{body}\n"
        group = ("spam" if spam else "easy-ham") + f"-{i % 2}"
        rows.append({"id": str(i), "group": group, "label": spam, "text": text})
    folder = tmp_path / "emails"
    folder.mkdir()
    (folder / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return folder


def test_run_version_keeps_the_recipe_and_adds_the_time():
    when = datetime(2026, 12, 7, 18, 1, 2, 345_000, tzinfo=UTC)
    assert run_version("email-31102d0b3cd8", when) == "email-31102d0b3cd8.20261207T180102345Z"


@pytest.mark.slow
def test_retraining_the_shipped_recipe_then_verify_passes(
    emails: Path, home: Path, monkeypatch: pytest.MonkeyPatch
):
    shipped = json.loads((shipped_folder() / "email.card.json").read_text())["version"]
    real_train = build.train

    def shipped_recipe(*args, **kwargs):  # same data fingerprint and parameters as shipped
        model, fitted, feats = real_train(*args, **kwargs)
        model.version = shipped
        return model, fitted, feats

    monkeypatch.setattr(build, "train", shipped_recipe)
    code, out = invoke(["models", "train", "email", "--data", str(emails), "--home", str(home)])
    assert code == 0, out
    card = json.loads((home / "models" / "email.card.json").read_text())
    assert card["version"].startswith(shipped + ".") and card["version"] != shipped
    assert f"registered email {card['version']}" in out
    code, out = invoke(["models", "verify", "--home", str(home)])
    assert code == 0, out
    assert load_model(home / "models" / "email.skops", home).version == card["version"]

    # the same recipe trained again into the same home: a new version, both verify
    code, out = invoke(["models", "train", "email", "--data", str(emails), "--home", str(home)])
    assert code == 0, out
    with HomeRegistry.open(home, create=False) as registry:
        assert registry is not None
        versions = [e.version for e in registry.entries()]
    assert len(versions) == len(set(versions)) == 2
    assert invoke(["models", "verify", "--home", str(home)])[0] == 0


@pytest.mark.parametrize("model", ["url", "email"])
@pytest.mark.parametrize(
    "option", [["--per-family", "20"], ["--holdout-benign", "x.txt"], ["--eval-report", "r"]]
)
def test_dga_only_options_are_refused_by_the_other_models(
    emails: Path, home: Path, model: str, option: list[str]
):
    args = ["models", "train", model, "--data", str(emails), "--home", str(home), *option]
    code, out = invoke(args)
    assert code == 2 and "dga only" in out
    assert not (home / "models").exists()


def test_unknown_model_and_calibration_options(emails: Path, home: Path):
    code, out = invoke(["models", "train", "nope", "--data", str(emails), "--home", str(home)])
    assert code == 2 and "trainable models are dga, email, url" in out
    args = ["models", "train", "beacon-calibration", "--data", str(emails), "--seed", "3"]
    code, out = invoke([*args, "--home", str(home)])
    assert code == 2 and "--data and --out only" in out


def test_models_commands_take_home_and_config(home: Path, tmp_path: Path):
    config = tmp_path / "garrison.toml"
    config.write_text("[hunt]\nbatch_size = 10\n")
    for command in (["list"], ["verify"]):
        code, out = invoke(["models", *command, "--home", str(home), "--config", str(config)])
        assert code == 0, out
    bad = tmp_path / "bad.toml"
    bad.write_text("[hunt\n")
    code, out = invoke(["models", "verify", "--home", str(home), "--config", str(bad)])
    assert code == 2 and "not valid TOML" in out
    code, out = invoke(["models", "list", "--config", str(tmp_path / "missing.toml")])
    assert code == 2 and "config file not found" in out
