"""Pseudonymization over the demo scenario (Windows, Linux, Zeek; 12 users, 10 hosts, 2 days):
no value the vault holds is left in any lake file as a whole word, and the hunt detects the
same stages with the same findings as without pseudonymization (UEBA, Sigma and the
network detectors keep working on tokens)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from garrison.govern.privacy import Vault, load_keys
from garrison.store.state import StateDB

ROOT = Path(__file__).resolve().parents[2]
RUNNER = (
    "import sys; sys.path[:0] = [{src!r}, {root!r}]; "
    "from garrison.interfaces.cli.app import main; main()"
)
SIZE = ("--users", "12", "--hosts", "10", "--days", "2", "--seed", "3")
PRIVACY = (
    '[privacy]\nfields = { "*" = ["user.name", "actor.user.name", "email.from", "email.to"] }\n'
)


def demo(tmp: Path, name: str, config: str | None) -> dict[str, object]:
    home = tmp / name / "home"
    home.mkdir(parents=True)
    if config is not None:
        (home / "garrison.toml").write_text(config, encoding="utf-8")
    out = tmp / name / "out"
    res = subprocess.run(
        [sys.executable, "-c", RUNNER.format(src=str(ROOT / "src"), root=str(ROOT)), "demo",
         "--out", str(out), "--home", str(home), *SIZE],
        capture_output=True, text=True, timeout=600, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    return json.loads((out / "results" / "demo-eval.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_demo_pseudonymized_leaves_no_name_and_detects_the_same(tmp_path: Path) -> None:
    clear = demo(tmp_path, "clear", None)
    hidden = demo(tmp_path, "hidden", PRIVACY)
    for key in ("stages_detected", "stages_total", "findings_total", "false_positive_findings"):
        assert hidden[key] == clear[key], key
    home = tmp_path / "hidden" / "home"
    keys = load_keys(home / "keys")
    assert keys is not None
    values = Vault(StateDB(home / "state.db"), keys.vault_key).values()
    assert len(values) >= 12  # the people (and their mail addresses) of the organisation
    rows = [
        json.dumps(row, ensure_ascii=False)
        for path in (home / "lake").rglob("*.parquet")
        for row in pq.read_table(path).to_pylist()
    ]
    text = "\n".join(rows)
    assert "pn:" in text
    for value in values:
        pattern = r"(?<!\w)(?<!\w[.@-])" + re.escape(value) + r"(?!\w)(?![.@-]\w)"
        assert re.search(pattern, text, re.IGNORECASE) is None, value
