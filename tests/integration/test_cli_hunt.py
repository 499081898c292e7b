"""The ``garrison hunt`` command line: outputs, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support import write_kv

ROOT = Path(__file__).resolve().parents[2]
RUNNER = (
    "import sys; sys.path.insert(0, {root!r}); import tests.support; "
    "from garrison.interfaces.cli.app import main; main()"
)


def garrison(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", RUNNER.format(root=str(ROOT)), *args]
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"GARRISON_HOME": str(home), "PATH": "/usr/bin:/bin"},
    )


def test_hunt_writes_the_four_contract_files(tmp_path: Path, home: Path) -> None:
    data = write_kv(tmp_path / "a.log", ["t=1000 user=a", "broken", "t=2000 user=b"])
    res = garrison("hunt", str(data), "--out", str(tmp_path / "out"), home=home)
    assert res.returncode == 0, res.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "findings.jsonl",
        "incidents.jsonl",
        "quarantine.jsonl",
        "summary.json",
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["records_read"], summary["events_stored"], summary["records_quarantined"]) == (
        3,
        2,
        1,
    )
    assert "read 3 records" in res.stdout
    assert (home / "state.db").exists() and (home / "lake").is_dir()


def test_missing_input_is_one_line_and_the_run_goes_on(tmp_path: Path, home: Path) -> None:
    data = write_kv(tmp_path / "a.log", ["t=1000 user=a"])
    res = garrison(
        "hunt", str(tmp_path / "nope.evtx"), str(data), "--out", str(tmp_path / "out"), home=home
    )
    assert res.returncode == 0
    lines = [line for line in res.stderr.splitlines() if "nope.evtx" in line]
    assert len(lines) == 1 and "no such file" in lines[0]
    assert "Traceback" not in res.stderr


def test_only_unusable_inputs_exit_2(tmp_path: Path, home: Path) -> None:
    res = garrison("hunt", str(tmp_path / "nope"), "--out", str(tmp_path / "out"), home=home)
    assert res.returncode == 2


def test_bad_usage_exits_2(tmp_path: Path, home: Path) -> None:
    assert garrison("hunt", "--out", str(tmp_path), home=home).returncode == 2
    res = garrison("hunt", str(tmp_path), "--out", str(tmp_path / "o"), "--engine", "x", home=home)
    assert res.returncode == 2 and "--engine" in res.stderr
    (home / "garrison.toml").write_text("[hunt\n")
    res = garrison("hunt", str(tmp_path), "--out", str(tmp_path / "o"), home=home)
    assert res.returncode == 2 and "not valid TOML" in res.stderr


def test_error_text_is_not_read_as_markup(tmp_path: Path, home: Path) -> None:
    (home / "garrison.toml").write_text('[ingest.evtx]\nisolate = "sometimes"\n')
    res = garrison("hunt", str(tmp_path), "--out", str(tmp_path / "o"), home=home)
    assert res.returncode == 2 and "[ingest.evtx]" in res.stderr
    (home / "garrison.toml").unlink()
    odd = tmp_path / "[red]x[/red]"
    data = write_kv(tmp_path / "a.log", ["t=1 user=a"])
    res = garrison("hunt", str(odd / "missing"), str(data), "--out", str(tmp_path / "o"), home=home)
    assert "[red]x[/red]/missing" in res.stderr
