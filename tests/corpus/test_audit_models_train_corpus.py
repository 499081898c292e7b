"""A successful `garrison models train` leaves an audit entry naming each file it wrote with
its sha256, and the chain still verifies."""

import hashlib
import json

import pytest
from typer.testing import CliRunner

from garrison.interfaces.cli.app import app


@pytest.mark.corpus
def test_models_train_audits_the_digests_it_wrote(corpus, home, tmp_path):
    out = tmp_path / "models"
    args = ["models", "train", "ueba-calibration", "--data", str(corpus), "--out", str(out)]
    run = CliRunner().invoke(app, [*args, "--home", str(home)])
    assert run.exit_code == 0, run.output
    listed = CliRunner().invoke(
        app, ["audit", "list", "--json", "--action", "models.train", "--home", str(home)]
    )
    (entry,) = [json.loads(line) for line in listed.output.splitlines()]
    assert entry["target"] == "ueba-calibration" and entry["outcome"] == "ok"
    written = entry["details"]["written"]
    assert written == {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.glob("ueba.*")
    }
    assert "ueba.calibration.json" in written
    assert CliRunner().invoke(app, ["audit", "verify", "--home", str(home)]).exit_code == 0
