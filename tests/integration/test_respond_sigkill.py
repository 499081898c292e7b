"""Exactly once across a SIGKILL: a real ``garrison`` process is killed between the
approval of a disruptive action and its execution (and, second case, after the call left
but before it was recorded); the next ``garrison respond`` runs it, and the real HTTP peer
on loopback has executed it exactly once. Issue 10, "Done means" point 2.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from garrison.govern.access import UserStore, os_account
from garrison.govern.audit import open_audit
from garrison.store.state import StateDB
from garrison.triage.store import FindingStore
from tests.integration.respond.peers import HttpPeer
from tests.unit.respond.conftest import make_finding

SECRET_ENV = "GARRISON_TEST_EDR_SECRET"
PLAYBOOK = """
id: isolate
name: Isolate a beaconing host
mode: live
trigger: {on: finding, analytic: ml.beacon, entity_type: host}
steps:
  - id: isolate
    action: isolate.host
    params: {host: "{{entity}}", reason: "beacon {{finding.uid}}"}
    approval: {required: true, quorum: 1}
"""


def _main(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    base = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), SECRET_ENV: "peer-secret"}
    code = "from garrison.interfaces.cli.app import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args, "--home", str(home)],
        env={**base, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _ok(home: Path, *args: str) -> str:
    proc = _main(home, *args)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


def _killed_at(home: Path, point: str, tmp_path: Path, *args: str) -> None:
    """Run the command until it reaches ``point``, then SIGKILL it there."""
    mark = tmp_path / f"at-{point}"
    proc = _main(home, *args, env={"GARRISON_FAILPOINTS": f"{point}=pause:{mark}"})
    deadline = time.monotonic() + 120
    while not mark.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "never reached the failpoint"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture
def peer():
    with HttpPeer() as server:
        yield server


@pytest.fixture
def home(tmp_path: Path, peer: HttpPeer) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "garrison.toml").write_text(
        f"""
[respond]
attempts = 3
backoff = 0.05
[respond.bindings]
isolation = "edr"
[respond.connectors.edr]
type = "webhook"
url = "{peer.url}"
secret_env = "{SECRET_ENV}"
allow_http = true
""",
        encoding="utf-8",
    )
    state = StateDB(home / "state.db")
    FindingStore(state).save([make_finding(entities=(("host", "ws-7"),))], "test")
    UserStore(state, open_audit(home, state)).add_user(os_account(), ["admin", "responder"])
    state.close()
    return home


def _pending_id(home: Path) -> str:
    (row,) = json.loads(_ok(home, "approvals", "list", "--json"))
    return str(row["id"])


def _executions(home: Path) -> list[str]:
    log = open_audit(home)
    return [e.target for e in log.entries(action="respond.execute") if e.outcome == "ok"]


def test_sigkill_between_approval_and_execution_runs_once(home, peer, tmp_path):
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    (playbooks / "isolate.yml").write_text(PLAYBOOK, encoding="utf-8")
    _ok(home, "respond", "--playbooks", str(playbooks))
    approval = _pending_id(home)
    assert peer.requests == []

    _killed_at(home, "respond.after-approval", tmp_path, "approvals", "approve", approval)
    assert peer.requests == [], "the action ran before the crash point"

    _ok(home, "respond", "--playbooks", str(playbooks))  # the restart
    _ok(home, "respond", "--playbooks", str(playbooks))  # and once more: nothing new
    assert len(peer.requests) == 1 and len(peer.executed) == 1
    body = peer.requests[0].json
    assert body["action"] == "isolate.host" and body["params"]["host"] == "ws-7"
    assert peer.requests[0].signed
    assert len(_executions(home)) == 1


def test_sigkill_after_the_call_left_is_recognised_by_its_key(home, peer, tmp_path):
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    (playbooks / "isolate.yml").write_text(PLAYBOOK, encoding="utf-8")
    _ok(home, "respond", "--playbooks", str(playbooks))
    approval = _pending_id(home)

    _killed_at(home, "respond.after-send", tmp_path, "approvals", "approve", approval)
    assert len(peer.requests) == 1  # the call left; nothing recorded it

    _ok(home, "respond", "--playbooks", str(playbooks))
    _ok(home, "respond", "--playbooks", str(playbooks))
    keys = {r.headers.get("Idempotency-Key") for r in peer.requests}
    assert len(peer.requests) == 2 and len(keys) == 1  # resent once, under the same key
    assert len(peer.executed) == 1  # the peer executed it once
    assert len(_executions(home)) == 1  # one audit entry
