"""``garrison score`` through the serving guard: with ``local_limits`` the OS account's
daily quota holds across runs (it is counted in the query log), and a refusal is one line
and exit 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from garrison.core.timeutil import now_ms
from garrison.govern.access import os_account
from garrison.govern.serving.limits import day_of
from garrison.govern.serving.querylog import Query, QueryLog

ROOT = Path(__file__).resolve().parents[2]


def test_the_os_accounts_quota_holds_across_runs(tmp_path: Path) -> None:
    home, names = tmp_path / "home", tmp_path / "names.txt"
    home.mkdir()
    names.write_text("google.com\nxjw9qpl2kd7v.net\n", encoding="utf-8")
    (home / "garrison.toml").write_text(
        "[guard]\nlocal_limits = true\ndaily_quota = 3\n", encoding="utf-8"
    )
    log = QueryLog.open(home)  # an earlier run today scored two lines
    log.append(os_account(), "dga", now_ms(), day_of(now_ms()), [Query("a.com", "benign", 0.1)] * 2)
    log.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    refused = subprocess.run(
        [sys.executable, "-c", "from garrison.interfaces.cli.app import main; main()",
         "score", "dga", str(names), "--home", str(home)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert refused.returncode == 2 and refused.stdout == ""
    assert "daily quota: 2 of 3 lines used today" in refused.stderr
    assert "Traceback" not in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
