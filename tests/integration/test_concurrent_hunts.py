"""Hunts run at the same time on one home lose nothing and store nothing twice.

Real ``garrison hunt`` processes race on one home: a large one, and while it is writing,
several small ones and a pair with the same input. Afterwards every committed event is
counted with DuckDB over the lake and compared with what each run said it stored.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from garrison.store import ParquetEventStore, StateDB
from garrison.store.lock import LOCK_NAME
from tests.integration.test_crash_recovery import _committed_batches
from tests.support import write_kv

ROOT = Path(__file__).resolve().parents[2]
RUNNER = (
    "import sys; sys.path.insert(0, {root!r}); import tests.support; "
    "from garrison.interfaces.cli.app import main; main()"
)
BIG = 40_000
SMALL = 1_500
N_SMALL = 4


def _start(
    home: Path, out: Path, *inputs: Path, config: Path | None = None
) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-c", RUNNER.format(root=str(ROOT)), "hunt"]
    cmd += [str(p) for p in inputs] + ["--out", str(out), "--home", str(home), "--quiet"]
    if config is not None:
        cmd += ["--config", str(config)]
    env = dict(os.environ, GARRISON_HOME=str(home))
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _lines(tag: str, n: int, t0: int) -> list[str]:
    return [f"t={t0 + i} user={tag}{i % 7} host=h{i % 5} n={tag}-{i}" for i in range(n)]


def _auth_log(path: Path, tag: int) -> Path:
    """sshd failures and a sudo root shell from one source: findings, grouped in incidents."""
    lines = [
        f"Mar  3 1{tag}:0{i // 6}:{i * 4:02d} srv{tag} sshd[{1000 + i}]: Failed password for "
        f"user{i % 8} from 203.0.113.{tag + 1} port {40000 + i} ssh2"
        for i in range(12)
    ]
    lines.append(
        f"Mar  3 1{tag}:05:00 srv{tag} sudo:    bob : TTY=pts/0 ; PWD=/home/bob ; USER=root ; "
        "COMMAND=/bin/bash"
    )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _finish(proc: subprocess.Popen[str], timeout: float = 600) -> str:
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return err


def _finding_uids(out: Path) -> set[str]:
    rows = (out / "findings.jsonl").read_text().splitlines()
    return {json.loads(row)["finding_info"]["uid"] for row in rows}


def _summary(out: Path) -> dict[str, int]:
    return json.loads((out / "summary.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.slow
def test_racing_hunts_store_every_event_exactly_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "garrison.toml").write_text("[hunt]\nbatch_size = 1000\nflush_events = 2000\n")
    big = write_kv(tmp_path / "big.log", _lines("big", BIG, 1_600_000_000_000))
    smalls = [
        write_kv(tmp_path / f"small{k}.log", _lines(f"s{k}", SMALL, 1_600_100_000_000 + k * 10**9))
        for k in range(N_SMALL)
    ]
    pair = write_kv(tmp_path / "pair.log", _lines("pair", SMALL, 1_600_900_000_000))
    auth = [_auth_log(tmp_path / f"auth{k}.log", k) for k in range(N_SMALL + 1)]

    runs = [(_start(home, tmp_path / "out-big", big), tmp_path / "out-big")]
    deadline = time.monotonic() + 120
    while _committed_batches(home) < 2:  # the large hunt is writing: start the others
        assert runs[0][0].poll() is None, runs[0][0].communicate()[1]
        assert time.monotonic() < deadline, "the large hunt made no progress"
        time.sleep(0.01)
    inputs = [*zip(smalls, auth, strict=False), (pair, auth[-1]), (pair, auth[-1])]
    for k, data in enumerate(inputs):
        out = tmp_path / f"out-{k}"
        runs.append((_start(home, out, *data), out))
    errors = [_finish(proc) for proc, _ in runs]
    summaries = [_summary(out) for _, out in runs]

    expected = BIG + (N_SMALL + 1) * (SMALL + 13)
    assert [s["events_stored"] for s in summaries] == [BIG] + [SMALL + 13] * (N_SMALL + 2)
    assert sum(s["events_new"] for s in summaries) == expected
    assert sorted(s["events_new"] for s in summaries[-2:]) == [0, SMALL + 13]  # same input
    # every finding belongs to one incident, the same input gave the same findings
    assert all(s["findings"] > 0 for s in summaries[1:])
    state = StateDB(home / "state.db")
    assert (
        state.query(
            "SELECT finding_uid FROM incident_findings GROUP BY finding_uid "
            "HAVING count(DISTINCT incident_uid) > 1"
        )
        == []
    )
    assert _finding_uids(runs[-1][1]) == _finding_uids(runs[-2][1])
    # the runs queued behind the large one said so
    assert any("in use by" in err and "waiting" in err for err in errors[1:])

    store = ParquetEventStore(home / "lake", state, writer=False)
    rows = store.sql("SELECT count(*), count(DISTINCT uid), count(DISTINCT fields) FROM events")
    assert rows == [(expected, expected, expected)]
    assert store.count() == expected
    assert all(p.is_file() for p in store.files())
    on_disk = sorted((home / "lake").glob("source=*/day=*/*"))
    assert on_disk == sorted(store.files()), "a lake file no committed batch refers to"

    again = _start(home, tmp_path / "out-again", big, *smalls, pair, *auth)
    _finish(again)
    assert _summary(tmp_path / "out-again")["events_new"] == 0
    assert store.sql("SELECT count(*) FROM events") == [(expected,)]


def test_a_hunt_that_may_not_wait_says_who_holds_the_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "lake").mkdir(parents=True)
    config = tmp_path / "garrison.toml"
    config.write_text("[hunt]\nlock_wait = 1\nbundled_rules = false\n")
    data = write_kv(tmp_path / "a.log", ["t=1000 user=a"])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(home / 'lake' / LOCK_NAME)!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "os.write(fd, b'pid %d since now' % os.getpid())\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        proc = _start(home, tmp_path / "out", data, config=config)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, err
        assert "Traceback" not in err
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and f"pid {holder.pid}" in errors[0], err
        assert time.monotonic() - started >= 1.0
        assert not (tmp_path / "out" / "summary.json").exists()
    finally:
        holder.kill()
        holder.wait()
    # the holder's death freed the lock: the same hunt now runs
    proc = _start(home, tmp_path / "out", data, config=config)
    _finish(proc, timeout=300)
    assert _summary(tmp_path / "out")["events_new"] == 1
    # the lock is advisory text plus flock: nothing else in the home depends on its content
    fd = os.open(home / "lake" / LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free after the hunt ended
    finally:
        os.close(fd)
