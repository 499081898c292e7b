"""`garrison audit head --post CONNECTOR`: the head reaches a real webhook receiver on
loopback, signed; what the receiver kept proves a later rewrite (issue 10, point 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from garrison.core.errors import CheckFailed, UsageError
from garrison.govern.audit import open_audit
from garrison.interfaces.cli.app import app
from tests.integration.respond.peers import HttpPeer

SECRET_ENV = "GARRISON_TEST_ANCHOR_SECRET"


def _home(tmp_path: Path, url: str) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "garrison.toml").write_text(
        f"""
[respond]
attempts = 2
backoff = 0.01
[respond.connectors.worm]
type = "webhook"
url = "{url}"
secret_env = "{SECRET_ENV}"
allow_http = true
""",
        encoding="utf-8",
    )
    log = open_audit(home)
    for i in range(3):
        log.append("finding.disposition", f"f{i}", details={"verdict": "tp"})
    return home


def test_the_posted_head_verifies_and_the_post_is_audited(tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "peer-secret")
    with HttpPeer() as peer:
        home = _home(tmp_path, peer.url)
        result = CliRunner().invoke(app, ["audit", "head", "--post", "worm", "--home", str(home)])
        assert result.exit_code == 0, result.output
    (request,) = peer.requests
    assert request.signed
    kept = tmp_path / "kept-head.json"
    kept.write_text(request.json["params"]["message"] + "\n", encoding="ascii")
    verified = CliRunner().invoke(
        app, ["audit", "verify", "--head", str(kept), "--home", str(home)]
    )
    assert verified.exit_code == 0, verified.output
    (entry,) = open_audit(home).entries(action="audit.anchor")
    assert entry.target == "worm" and entry.outcome == "ok"


def test_an_unreachable_receiver_is_exit_1_and_audited(tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "peer-secret")
    with HttpPeer(default=503) as peer:
        home = _home(tmp_path, peer.url)
        result = CliRunner().invoke(app, ["audit", "head", "--post", "worm", "--home", str(home)])
    assert isinstance(result.exception, CheckFailed)  # exit 1 through main()
    assert len(peer.requests) == 2  # retried once
    (entry,) = open_audit(home).entries(action="audit.anchor")
    assert entry.outcome == "error:failed"


@pytest.mark.parametrize("name", ["nosuch"])
def test_an_unknown_connector_is_exit_2(tmp_path, monkeypatch, name):
    monkeypatch.setenv(SECRET_ENV, "peer-secret")
    home = _home(tmp_path, "http://127.0.0.1:9/")
    result = CliRunner().invoke(app, ["audit", "head", "--post", name, "--home", str(home)])
    assert isinstance(result.exception, UsageError)  # exit 2 through main()
    assert "no webhook connector" in str(result.exception)
