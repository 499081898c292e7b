"""A connector that fails is a recorded failed step, after retries with backoff when the
failure may pass (a 503) and at once when it will not (a 400): never a silent skip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from garrison.govern.audit import open_audit
from garrison.interfaces.cli.app import app
from garrison.store.state import StateDB
from garrison.triage.store import FindingStore
from tests.integration.respond.peers import HttpPeer
from tests.integration.test_respond_concurrent import PLAYBOOK, SECRET_ENV
from tests.unit.respond.conftest import make_finding


@pytest.mark.parametrize(("status", "requests"), [(503, 3), (400, 1)])
def test_failures_are_recorded_with_their_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int, requests: int
) -> None:
    monkeypatch.setenv(SECRET_ENV, "peer-secret")
    with HttpPeer(default=status) as peer:
        home = tmp_path / "home"
        home.mkdir()
        (home / "garrison.toml").write_text(
            f"[respond]\nattempts = 3\nbackoff = 0.01\n[respond.connectors.oncall]\n"
            f'type = "webhook"\nurl = "{peer.url}"\nsecret_env = "{SECRET_ENV}"\n'
            "allow_http = true\n",
            encoding="utf-8",
        )
        state = StateDB(home / "state.db")
        FindingStore(state).save([make_finding()], "test")
        state.close()
        playbooks = tmp_path / "playbooks"
        playbooks.mkdir()
        (playbooks / "tell.yml").write_text(PLAYBOOK, encoding="utf-8")
        args = ["respond", "--playbooks", str(playbooks), "--home", str(home), "--json"]
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["steps"] == {"failed": 1}
    assert len(peer.requests) == requests
    (entry,) = open_audit(home).entries(action="respond.execute")
    details = json.loads(entry.details)
    assert entry.outcome == "error:failed" and details["attempts"] == requests
    assert str(status) in details["reason"]
