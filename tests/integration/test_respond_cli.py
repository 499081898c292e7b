"""The respond commands through the CLI on a single-operator home: the contracts' shapes,
edits and refusals (exit codes through ``main``'s mapping: the exceptions here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from garrison.core.errors import InputError, UsageError
from garrison.interfaces.cli.app import app
from garrison.store.state import StateDB
from garrison.triage.store import FindingStore
from tests.unit.respond.conftest import make_finding
from tests.unit.respond.test_engine import BLOCK


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    state = StateDB(home / "state.db")
    FindingStore(state).save([make_finding()], "test")
    state.close()
    return home


def _run(home: Path, *args: str):
    return CliRunner().invoke(app, [*args, "--home", str(home)])


def _playbooks(tmp_path: Path) -> Path:
    folder = tmp_path / "playbooks"
    folder.mkdir(exist_ok=True)
    (folder / "block.yml").write_text(BLOCK, encoding="utf-8")
    return folder


def test_respond_then_edit_then_reject(home: Path, tmp_path: Path) -> None:
    result = _run(home, "respond", "--playbooks", str(_playbooks(tmp_path)), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["started"] == {"block": 1} and summary["pending_approvals"] == 1
    # enrich has no connector to need; block.ip waits
    (row,) = json.loads(_run(home, "approvals", "list", "--json").output)
    assert row["action"] == "block.ip" and row["quorum"] == 2 and row["votes"] == 0
    edited = _run(home, "approvals", "approve", row["id"], "--set", "duration=2h")
    assert edited.exit_code == 0 and "pending" in edited.output
    (row,) = json.loads(_run(home, "approvals", "list", "--json").output)
    assert row["params"]["duration"] == "2h" and row["votes"] == 1
    again = _run(home, "approvals", "approve", row["id"])
    assert isinstance(again.exception, UsageError)  # one identity, one decision
    rejected = _run(home, "approvals", "reject", row["id"], "--reason", "wrong address")
    assert isinstance(rejected.exception, UsageError)  # it already decided, too
    everything = json.loads(_run(home, "approvals", "list", "--all", "--json").output)
    assert [r["status"] for r in everything] == ["pending"]


def test_bad_input_is_refused_before_anything_runs(home: Path, tmp_path: Path) -> None:
    folder = _playbooks(tmp_path)
    bogus = _run(home, "respond", "--playbooks", str(folder), "--mode", "yolo")
    assert isinstance(bogus.exception, UsageError) and "--mode" in str(bogus.exception)
    (folder / "broken.yml").write_text("id: x\nname: x\ntrigger: {on: finding}\nsteps: []\n")
    broken = _run(home, "respond", "--playbooks", str(folder))
    assert isinstance(broken.exception, InputError) and "broken.yml:4" in str(broken.exception)
    missing = _run(home, "approvals", "approve", "ap-nosuch")
    assert isinstance(missing.exception, UsageError)
    malformed = _run(home, "approvals", "approve", "ap-nosuch", "--set", "novalue")
    assert isinstance(malformed.exception, UsageError) and "KEY=VALUE" in str(malformed.exception)
    assert json.loads(_run(home, "approvals", "list", "--json").output) == []
