"""The analyst commands end to end on a real state folder."""

import json

import pytest
from typer.testing import CliRunner

from garrison.correlate.service import INDEX_FILE, AlertPipeline
from garrison.correlate.synthetic import generate
from garrison.interfaces.cli.app import app
from garrison.store.state import StateDB
from garrison.triage.config import TriageConfig
from garrison.triage.service import TriageService
from garrison.triage.store import FindingStore


@pytest.fixture()
def home(tmp_path):
    state = StateDB(tmp_path / "state.db")
    cfg = TriageConfig()
    pipeline = AlertPipeline(
        cfg, TriageService(cfg, store=FindingStore(state)), state, tmp_path / INDEX_FILE
    )
    pipeline.process(generate(600, n_users=30, n_chains=2, seed=9).findings)
    state.close()
    return tmp_path


def _run(home, *args):
    result = CliRunner().invoke(app, [*args, "--home", str(home)])
    assert result.exit_code == 0, result.output
    return result.output


def test_incident_workflow_commands(home):
    rows = json.loads(_run(home, "incidents", "list", "--json"))
    assert rows and rows[0]["risk_score"] >= rows[-1]["risk_score"]
    top, second = rows[0]["uid"], rows[1]["uid"]
    shown = _run(home, "incidents", "show", top[:12])
    assert "score = " in shown and "Kill chain" in shown
    assert "acknowledged" in _run(home, "incidents", "ack", top)
    assert "resolved as tp" in _run(home, "incidents", "resolve", top, "--verdict", "tp")
    assert "findings" in _run(home, "incidents", "merge", top, second)
    merged = json.loads(_run(home, "incidents", "show", second, "--json"))
    assert merged["finding_info"]["uid"] == top  # the merged id leads to the survivor
    similar = _run(home, "incidents", "similar", top)
    assert similar.strip()


def test_finding_verdicts_tuning_and_allowlist_commands(home):
    findings = json.loads(_run(home, "findings", "list", "--json", "--limit", "500"))
    for row in findings[:4]:
        assert "risk now 0" in _run(home, "findings", "disposition", row["uid"], "fp")
    tuning = _run(home, "findings", "tuning", "--min-count", "1")
    assert "suggest exception" in tuning
    added = _run(home, "allowlist", "add", "any", "user00003", "--reason", "test")
    assert "allowlist #1 added" in added
    assert "#1" in _run(home, "allowlist", "list")
    assert "removed" in _run(home, "allowlist", "remove", "1")


def test_bad_usage_exits_2(home):
    result = CliRunner().invoke(
        app,
        ["findings", "disposition", "zzzz", "maybe", "--home", str(home)],
        standalone_mode=False,
    )
    assert result.exception is not None
    from garrison.interfaces.cli import app as app_module

    with pytest.raises(SystemExit) as exit_info:
        import sys

        sys.argv = ["garrison", "incidents", "show", "nope", "--home", str(home)]
        app_module.main()
    assert exit_info.value.code == 2
