"""Two ``garrison respond`` processes on one home at once: every action reaches the real
HTTP peer once (the second process waits for the first instead of taking its in-flight
steps for crashed ones)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from garrison.store.state import StateDB
from garrison.triage.store import FindingStore
from tests.integration.respond.peers import HttpPeer
from tests.unit.respond.conftest import make_finding

SECRET_ENV = "GARRISON_TEST_HOOK_SECRET"
PLAYBOOK = """
id: tell
name: Tell the on-call channel about every beacon
mode: live
trigger: {on: finding, analytic: ml.beacon}
steps:
  - id: page
    action: notify.webhook
    params: {connector: oncall, message: "beacon from {{entity}}"}
"""


def _start(home: Path, playbooks: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), SECRET_ENV: "peer-secret"}
    code = "from garrison.interfaces.cli.app import main; main()"
    args = ["respond", "--playbooks", str(playbooks), "--home", str(home)]
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_send_each_action_once(tmp_path: Path) -> None:
    with HttpPeer() as peer:
        home = tmp_path / "home"
        home.mkdir()
        (home / "garrison.toml").write_text(
            f'[respond.connectors.oncall]\ntype = "webhook"\nurl = "{peer.url}"\n'
            f'secret_env = "{SECRET_ENV}"\nallow_http = true\n',
            encoding="utf-8",
        )
        state = StateDB(home / "state.db")
        findings = [make_finding(record=i, entities=(("ip", f"203.0.113.{i}"),)) for i in range(40)]
        FindingStore(state).save(findings, "test")
        state.close()
        playbooks = tmp_path / "playbooks"
        playbooks.mkdir()
        (playbooks / "tell.yml").write_text(PLAYBOOK, encoding="utf-8")
        procs = [_start(home, playbooks) for _ in range(2)]
        for proc in procs:
            _out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err
    keys = [r.headers.get("Idempotency-Key") for r in peer.requests]
    assert len(keys) == 40 and len(set(keys)) == 40
