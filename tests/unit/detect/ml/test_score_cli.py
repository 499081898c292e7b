"""``garrison score MODEL FILE`` for every text model: ``--home`` and ``--config`` (the home's
registry vouches for a home model, the config's detector ``model`` option is the default
model), and scoring one DGA name imports the DGA model, not every detector."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import garrison
from garrison.govern.registry.manifest import shipped_folder
from tests.models_cli import invoke


def _home_dga(home: Path) -> Path:
    folder = home / "models"
    folder.mkdir(parents=True)
    for name in ("dga.skops", "dga.card.json"):
        shutil.copy(shipped_folder() / name, folder / name)
    return folder / "dga.skops"


def test_home_model_loads_only_once_registered_in_that_home(home: Path, tmp_path: Path):
    path = _home_dga(home)
    args = ["score", "dga", "-", "--model", str(path), "--home", str(home)]
    code, message = invoke(args, "example.com\n")
    assert code == 2 and "matches no signed entry" in message
    assert (
        invoke(["models", "register", "dga", "--dir", str(path.parent), "--home", str(home)])[0]
        == 0
    )
    code, out = invoke(args, "example.com\n")
    assert code == 0 and json.loads(out)["verdict"] == "benign"
    other = tmp_path / "other-home"
    other.mkdir()
    code, message = invoke([*args[:-1], str(other)], "example.com\n")
    assert code == 2, "another home's registry does not vouch for this file"


def test_config_model_option_is_the_default_model(home: Path, tmp_path: Path):
    config = tmp_path / "garrison.toml"
    config.write_text(f'[detectors."ml.dga"]\nmodel = "{tmp_path / "nope.skops"}"\n')
    code, message = invoke(["score", "dga", "-", "--config", str(config)], "example.com\n")
    assert code == 2 and "nope.skops" in message
    # --model wins over the option
    args = ["score", "dga", "-", "--config", str(config)]
    code, out = invoke([*args, "--model", str(shipped_folder() / "dga.skops")], "example.com\n")
    assert code == 0 and json.loads(out)["input"] == "example.com"


@pytest.mark.parametrize("model", ["dga", "url", "email"])
def test_every_model_takes_home_and_config(model: str, home: Path, tmp_path: Path):
    config = tmp_path / "garrison.toml"
    config.write_text("[hunt]\nbatch_size = 100\n")
    line = json.dumps({"subject": "hi", "body": "lunch?"}) if model == "email" else "example.com"
    args = ["score", model, "-", "--home", str(home), "--config", str(config)]
    code, out = invoke(args, line + "\n")
    assert code == 0, out
    assert len(out.splitlines()) == 1
    bad = tmp_path / "bad.toml"
    bad.write_text("[detectors\n")
    code, message = invoke([*args[:-1], str(bad)], line + "\n")
    assert code == 2 and "not valid TOML" in message


def test_scoring_one_name_imports_the_dga_model_and_no_other_detector(tmp_path: Path):
    """Run in a fresh interpreter: which garrison modules does `garrison score dga` load?"""
    script = (
        "import sys, typer\n"
        "from garrison.interfaces.cli.score import score\n"
        "app = typer.Typer(); app.command()(score); app.command('x')(lambda: None)\n"
        "app(['score', 'dga', '-'], standalone_mode=False)\n"
        "import json\n"
        "names = sorted(m for m in sys.modules if m.startswith('garrison.'))\n"
        "print(json.dumps(names), file=sys.stderr)\n"
    )
    src = str(Path(garrison.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src, "GARRISON_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=b"example.com\n",
        capture_output=True,
        env=env,
        timeout=300,
        check=True,
    )
    assert json.loads(done.stdout)["input"] == "example.com"
    loaded = json.loads(done.stderr.decode().strip().splitlines()[-1])
    assert "garrison.detect.ml.dga.model" in loaded
    others = [
        m
        for m in loaded
        if m.startswith(("garrison.detect.", "garrison.pipeline", "garrison.store."))
        and not m.startswith(("garrison.detect.ml.dga", "garrison.detect.ml.text"))
        and m
        not in {
            "garrison.detect.ml",
            "garrison.detect.base",  # the DETECTORS registry itself, no detector
            "garrison.detect.ml.artifacts",
            "garrison.detect.ml.domains",
            "garrison.detect.ml.lines",
            "garrison.detect.ml.url",
            "garrison.detect.ml.url.textmodel",
            "garrison.detect.ml.email",
            "garrison.detect.ml.email.textmodel",
            # the serving guard's append-only query log: SQLite only, never the lake
            "garrison.store",
            "garrison.store.state",
        }
    ]
    assert others == []
    assert "garrison.detect._builtin" not in loaded
