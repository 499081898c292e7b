"""``garrison playbooks check DIR`` exit codes: 0 all valid, 1 with FILE:LINE: reason for
each invalid playbook, 2 for a missing folder (run through the real entry point)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "src" / "garrison" / "content" / "playbooks"


def _run(tmp_path: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    code = "from garrison.interfaces.cli.app import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, "playbooks", "check", str(folder), "--home", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src"), "HOME": str(tmp_path)},
    )


def test_the_shipped_playbooks_check_clean(tmp_path):
    res = _run(tmp_path, SHIPPED)
    assert res.returncode == 0, res.stderr
    assert "4 playbook(s) valid, 0 invalid" in res.stdout


def test_invalid_playbooks_exit_1_with_file_line_and_reason(tmp_path):
    folder = tmp_path / "pb"
    folder.mkdir()
    good = (SHIPPED / "ticket-high-incident.yml").read_text(encoding="utf-8")
    (folder / "good.yml").write_text(good, encoding="utf-8")
    bad = good.replace("id: ticket-high-incident", "id: other").replace(
        "action: ticket.open", "action: wipe.disk"
    )
    (folder / "bad.yml").write_text(bad, encoding="utf-8")
    (folder / "typo.yml").write_text(good.replace("id: ticket-high", "idd: ticket-high"), "utf-8")
    res = _run(tmp_path, folder)
    assert res.returncode == 1
    lines = [line for line in res.stderr.splitlines() if line.startswith(str(folder))]
    assert len(lines) == 2, res.stderr
    bad_line = next(n for n, t in enumerate(bad.splitlines(), 1) if "wipe.disk" in t)
    assert f"{folder / 'bad.yml'}:{bad_line}: step ticket: unknown action 'wipe.disk'" in lines[0]
    assert f"{folder / 'typo.yml'}:2: playbook: unknown key 'idd'" in res.stderr
    assert "1 playbook(s) valid, 2 invalid" in res.stdout
    assert "Traceback" not in res.stderr


def test_a_missing_folder_exits_2(tmp_path):
    res = _run(tmp_path, tmp_path / "absent")
    assert res.returncode == 2
    assert "no such playbook folder" in res.stderr and "Traceback" not in res.stderr
