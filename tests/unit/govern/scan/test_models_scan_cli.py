"""``garrison models scan PATH...``: one JSON line per file, exit codes, folders walked; and
``models register`` reporting the scanner's findings when it refuses a pickle."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np

from tests.models_cli import invoke
from tests.unit.govern.scan.corpus import _Reduce, benign_pickles


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _evil(marker: Path) -> bytes:
    return pickle.dumps(_Reduce(os.system, f"touch {marker}"))


def test_folder_scan_prints_one_line_per_model_file_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "evil.bin").write_bytes(_evil(tmp_path / "PWNED"))
    (tmp_path / "good.joblib").write_bytes(benign_pickles()["hist-gradient-boosting/joblib"])
    np.save(tmp_path / "weights.npy", np.arange(10.0))
    (tmp_path / "notes.txt").write_text("not a model\n")
    code, out = invoke(["models", "scan", str(tmp_path)])
    assert code == 1
    rows = {Path(r["path"]).name: r for r in _lines(out)}
    assert set(rows) == {"evil.bin", "good.joblib", "weights.npy"}
    assert rows["good.joblib"]["verdict"] == "safe" and rows["weights.npy"]["verdict"] == "safe"
    evil = rows["evil.bin"]
    assert evil["verdict"] == "unsafe"
    assert {"kind", "module", "name", "position", "opcode", "member"} <= set(evil["findings"][0])
    assert ("posix", "system") in {(f["module"], f["name"]) for f in evil["findings"]}
    assert not (tmp_path / "PWNED").exists()


def test_safe_files_exit_0(tmp_path: Path) -> None:
    path = tmp_path / "m.pkl"
    path.write_bytes(benign_pickles()["logistic-regression/p5"])
    code, out = invoke(["models", "scan", str(path)])
    assert code == 0
    assert _lines(out) == [
        {"path": str(path), "verdict": "safe", "format": "pickle", "findings": []}
    ]


def test_unreadable_file_is_reported_and_not_safe(tmp_path: Path) -> None:
    path = tmp_path / "cut.pkl"
    path.write_bytes(benign_pickles()["logistic-regression/p4"][:100])
    code, out = invoke(["models", "scan", str(path)])
    assert code == 1
    (row,) = _lines(out)
    assert row["verdict"] == "unreadable" and row["reason"]


def test_missing_path_is_bad_usage_in_one_line(tmp_path: Path) -> None:
    code, out = invoke(["models", "scan", str(tmp_path / "nope.pkl")])
    assert code == 2
    assert out.strip().count("\n") == 0 and "nope.pkl" in out and "Traceback" not in out


def test_register_refusal_names_the_scanners_findings(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "url.pkl").write_bytes(_evil(tmp_path / "PWNED"))
    code, out = invoke(["models", "register", "url", "--dir", str(folder), "--home", str(home)])
    assert code == 2
    assert "scan: unsafe: posix.system" in out and "REDUCE at byte" in out
    assert not (tmp_path / "PWNED").exists()


def test_register_refuses_a_skops_file_with_a_smuggled_pickle(home: Path, tmp_path: Path) -> None:
    """The type check alone passes it (its schema is clean); the scanner does not."""
    from garrison.govern.registry.manifest import shipped_folder
    from tests.unit.govern.scan.corpus import skops_smuggled_pickle

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "url.skops").write_bytes(skops_smuggled_pickle(tmp_path / "PWNED"))
    (folder / "url.card.json").write_bytes((shipped_folder() / "url.card.json").read_bytes())
    code, out = invoke(["models", "register", "url", "--dir", str(folder), "--home", str(home)])
    assert code == 1, out
    assert "archive-member" in out and "extra.bin" in out
