"""``garrison hunt`` in a hostile environment: bad folders, a broken state database, a full
disk. Each ends in one line and exit 2, with no traceback and no half-written file; the
output folder inside a hunted folder is left out of the input instead of read back.

Full disks are real: a small tmpfs when this process may mount one (root), and everywhere a
file-size limit (``RLIMIT_FSIZE`` with SIGXFSZ ignored, so writes fail with EFBIG).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from garrison.store import ParquetEventStore, StateDB
from tests.support import write_kv

ROOT = Path(__file__).resolve().parents[2]
RUNNER = (
    "import sys; sys.path.insert(0, {root!r}); import tests.support; "
    "from garrison.interfaces.cli.app import main; main()"
)
FAST = "[hunt]\nbundled_rules = false\n"


def hunt(
    *args: str, home: Path, limit: int | None = None, config: str = FAST
) -> subprocess.CompletedProcess[str]:
    """Run ``garrison hunt ARGS --home HOME``; ``limit`` caps every file it writes."""
    with tempfile.TemporaryDirectory() as folder:
        cfg = Path(folder) / "garrison.toml"
        cfg.write_text(config)
        cmd = [sys.executable, "-c", RUNNER.format(root=str(ROOT)), "hunt", *args]
        cmd += ["--home", str(home), "--config", str(cfg), "--quiet"]
        return subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=600,
            env=dict(os.environ, GARRISON_HOME=str(home)),
            preexec_fn=None if limit is None else _file_size_limit(limit),
        )


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # inherited: writes fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def one_error_line(res: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _partial_files(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if ".tmp" in p.name]


def _kv_lines(n: int) -> list[str]:
    return [f"t={1_600_000_000_000 + i} user=u{i % 97} host=h{i % 13} n={i}" for i in range(n)]


# --- usage and environment errors, before any work ------------------------------------------


def test_out_that_is_a_file_or_an_input_is_refused(tmp_path: Path, home: Path) -> None:
    data = write_kv(tmp_path / "a.log", ["t=1000 user=a"])
    one_error_line(hunt(str(data), "--out", str(data), home=home), "--out", "not a folder")
    assert data.read_text() == "#kv\nt=1000 user=a\n"
    assert not (home / "state.db").exists()  # refused before any work


def test_home_that_is_a_file_is_refused(tmp_path: Path) -> None:
    data = write_kv(tmp_path / "a.log", ["t=1000 user=a"])
    fake_home = tmp_path / "home-file"
    fake_home.write_text("not a folder")
    res = hunt(str(data), "--out", str(tmp_path / "out"), home=fake_home)
    one_error_line(res, "--home", "not a folder")
    assert not (tmp_path / "out").exists()  # a refused hunt creates nothing


def test_out_where_nothing_can_be_written_is_refused(tmp_path: Path, home: Path) -> None:
    data = write_kv(tmp_path / "a.log", ["t=1000 user=a"])
    one_error_line(hunt(str(data), "--out", "/proc/self", home=home), "--out", "cannot write")
    under_file = data / "results" / "today"
    res = hunt(str(data), "--out", str(under_file), home=home)
    one_error_line(res, "--out", "not a folder", f"{data} is a file")
    assert not (home / "state.db").exists()


def test_out_equal_to_an_input_folder_or_file_is_refused(tmp_path: Path, home: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    write_kv(logs / "a.log", ["t=1000 user=a"])
    one_error_line(hunt(str(logs), "--out", str(logs), home=home), "also an input folder")
    res = hunt(str(logs), "--out", str(tmp_path / "out"), home=home)
    assert res.returncode == 0, res.stderr
    previous = tmp_path / "out" / "findings.jsonl"
    one_error_line(
        hunt(str(previous), "--out", str(tmp_path / "out"), home=home), "would overwrite"
    )


def test_a_state_database_that_is_not_one_is_one_line(tmp_path: Path, home: Path) -> None:
    data = write_kv(tmp_path / "a.log", ["t=1000 user=a"])
    (home / "state.db").write_bytes(b"\x00garbage\xff" * 500)
    res = hunt(str(data), "--out", str(tmp_path / "out"), home=home)
    one_error_line(res, "state database", "not a SQLite database")
    assert not (tmp_path / "out" / "summary.json").exists()
    assert (home / "state.db").read_bytes() == b"\x00garbage\xff" * 500  # left for the user


def test_a_damaged_state_database_is_one_line(tmp_path: Path, home: Path) -> None:
    data = write_kv(tmp_path / "a.log", _kv_lines(3000))
    out = tmp_path / "out"
    assert hunt(str(data), "--out", str(out), home=home).returncode == 0
    db = home / "state.db"
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = int(con.execute("PRAGMA page_size").fetchone()[0])
    con.close()
    raw = bytearray(db.read_bytes())
    raw[page:] = bytes([0xA5]) * (len(raw) - page)  # every page after the schema page
    db.write_bytes(bytes(raw))
    res = hunt(str(data), "--out", str(out), home=home)
    one_error_line(res, "state database", "damaged")
    assert not _partial_files(home, out)


# --- a full disk ---------------------------------------------------------------------------


def _lake_is_consistent(home: Path) -> int:
    """Every lake file is committed and every committed file is there; the event count."""
    store = ParquetEventStore(home / "lake", StateDB(home / "state.db"), writer=False)
    assert sorted((home / "lake").glob("source=*/day=*/*")) == sorted(store.files())
    rows = store.sql("SELECT count(*), count(DISTINCT uid) FROM events")
    assert rows[0][0] == rows[0][1] == store.count()
    return int(rows[0][0])


def test_file_size_limit_in_the_lake_ends_cleanly_and_recovers(tmp_path: Path, home: Path) -> None:
    data = write_kv(tmp_path / "big.log", _kv_lines(40_000))  # one Parquet file of ~1 MB
    out = tmp_path / "out"
    res = hunt(str(data), "--out", str(out), home=home, limit=600_000)
    one_error_line(res, "disk full", "event lake", "File too large")
    assert not _partial_files(home, out)
    assert not out.joinpath("summary.json").exists()
    assert _lake_is_consistent(home) == 0
    res = hunt(str(data), "--out", str(out), home=home)  # the limit lifted: exact recovery
    assert res.returncode == 0, res.stderr
    assert json.loads((out / "summary.json").read_text())["events_new"] == 40_000
    assert _lake_is_consistent(home) == 40_000


def test_file_size_limit_on_the_results_keeps_the_previous_ones(tmp_path: Path, home: Path) -> None:
    out = tmp_path / "out"
    small = write_kv(tmp_path / "small.log", ["t=1000 user=a", "broken"])
    assert hunt(str(small), "--out", str(out), home=home).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # 20,000 bad lines: a quarantine.jsonl of several MB, only a few KB of lake
    bad = write_kv(tmp_path / "bad.log", [f"bad line {i} " + "x" * 80 for i in range(20_000)])
    res = hunt(str(bad), "--out", str(out), home=home, limit=1_000_000)
    one_error_line(res, "disk full", "results", str(out))
    assert not _partial_files(home, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1.5 MB tmpfs, when this process may mount one."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1536k", "tmpfs", str(mnt)],  # noqa: S607 - test-only system tool, run as root
        capture_output=True,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr!r}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)  # noqa: S607 - test-only system tool, run as root


def test_a_full_disk_mid_hunt_keeps_what_was_committed(small_disk: Path, tmp_path: Path) -> None:
    home, out = small_disk / "home", small_disk / "out"
    data = write_kv(tmp_path / "big.log", _kv_lines(60_000))  # ~1.5 MB of Parquet
    config = FAST + "batch_size = 2000\nflush_events = 4000\n"
    res = hunt(str(data), "--out", str(out), home=home, config=config)
    one_error_line(res, "disk full")
    assert not _partial_files(home, out)
    committed = _lake_is_consistent(home)
    assert 0 < committed < 60_000, committed
    grown = ["mount", "-o", "remount,size=16m", str(small_disk)]
    subprocess.run(grown, check=True)
    res = hunt(str(data), "--out", str(out), home=home, config=config)
    assert res.returncode == 0, res.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["events_new"] == 60_000 - committed
    assert _lake_is_consistent(home) == 60_000


# --- the output folder inside a hunted folder ------------------------------------------------


def test_out_and_home_inside_the_hunted_folder_are_not_read_back(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    write_kv(logs / "a.log", ["t=1000 user=a cmd=evil", "broken", "t=2000 user=b"])
    home, out = logs / "home", logs / "results"
    first = hunt(str(logs), "--out", str(out), home=home)
    assert first.returncode == 0, first.stderr
    second = hunt(str(logs), "--out", str(out), home=home)
    assert second.returncode == 0, second.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["records_read"], summary["files_read"], summary["events_new"]) == (3, 1, 0)
    skipped = {entry["path"]: entry["reason"] for entry in summary["files_failed"]}
    assert "--out folder" in skipped[str(out)]
    assert "Garrison home" in skipped[str(home)]
    lines = [line for line in second.stderr.splitlines() if "not read" in line]
    assert len(lines) == 2, second.stderr
