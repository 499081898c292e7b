"""A hunt killed with SIGKILL mid-ingest and started again stores every event exactly once.

The test really kills a ``garrison hunt`` subprocess (several times, at different points)
and then checks the lake: every line of the input is in it exactly once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from garrison.store import ParquetEventStore, StateDB
from tests.support import write_kv

ROOT = Path(__file__).resolve().parents[2]
N_LINES = 120_000
BATCH = 2_000

RUNNER = (
    "import sys; sys.path.insert(0, {root!r}); import tests.support; "
    "from garrison.interfaces.cli.app import main; main()"
)


def _committed_batches(home: Path) -> int:
    db = home / "state.db"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(con.execute("SELECT count(*) FROM lake_batches").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _hunt(home: Path, data: Path, out: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-c",
        RUNNER.format(root=str(ROOT)),
        "hunt",
        str(data),
        "--out",
        str(out),
        "--home",
        str(home),
        "--quiet",
    ]
    env = dict(os.environ, GARRISON_HOME=str(home))
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def _kill_after(proc: subprocess.Popen[bytes], home: Path, batches: int) -> None:
    deadline = time.monotonic() + 120
    while _committed_batches(home) < batches:
        if proc.poll() is not None:
            pytest.fail(f"hunt ended before it could be killed: {proc.stderr.read()!r}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("hunt made no progress in 120 s")
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_sigkill_mid_ingest_then_restart_stores_each_event_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # flush every two batches so the kills land between flushes, not only before the first
    (home / "garrison.toml").write_text(
        f"[hunt]\nbatch_size = {BATCH}\nflush_events = {2 * BATCH}\n"
    )
    data = write_kv(
        tmp_path / "big.log",
        [f"t={1_600_000_000_000 + i} user=u{i % 97} host=h{i % 13} n={i}" for i in range(N_LINES)],
    )
    killed_at = []
    for target in (3, 11, 25):
        proc = _hunt(home, data, tmp_path / "out")
        _kill_after(proc, home, target)
        killed_at.append(_committed_batches(home))
    assert killed_at[-1] < N_LINES // BATCH, "the last kill came after ingest finished"

    proc = _hunt(home, data, tmp_path / "out")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    # the kernel freed each killed writer's lock: the restart did not queue behind a corpse
    assert "in use by" not in err.decode()

    state = StateDB(home / "state.db")
    store = ParquetEventStore(home / "lake", state)
    rows = store.sql(
        "SELECT count(*), count(DISTINCT uid), count(DISTINCT record_id), "
        "min(record_id), max(record_id) FROM events"
    )
    assert rows == [(N_LINES, N_LINES, N_LINES, 2, N_LINES + 1)]
    assert store.count() == N_LINES
    # Temporary files of the killed writers were cleaned up and none is ever queried.
    assert all(p.suffix == ".parquet" for p in store.files())
    assert not list((home / "lake").glob("**/*.tmp*"))
