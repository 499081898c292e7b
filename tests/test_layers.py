"""The stage order is enforced, not just stated: the import-linter contracts in pyproject.toml
(``[tool.importlinter]``, explained in docs/architecture.md) run here over the source tree.

Other tests plant a forbidden import (a later stage, demo, govern past store, a sibling
cycle) in a copy of the tree and check that the same command then fails naming it, so the
first test is known to be able to fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The documented order, lowest first (docs/architecture.md); the contract must say the same.
STAGES = (
    "core | content",
    "ingest",
    "normalize",
    "store",
    "govern",
    "detect",
    "triage",
    "correlate",
    "respond",
    "pipeline",
    "outputs",
    "demo | intake",
    "intake_records",
    "measure",
    "interfaces",
)


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` (the entry point of the pinned import-linter) over ``tree/src`` with
    ``tree/pyproject.toml``; no cache written into the tree."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree / "src"), str(tree)])}
    code = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run(
        [sys.executable, "-c", code, "--config", "pyproject.toml", "--no-cache", "--no-logo"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_import_contracts_hold() -> None:
    res = _lint_imports(ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 broken" in res.stdout, res.stdout


def test_contract_lists_the_stages_in_the_documented_order() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}
    stages = contracts["stages"]
    assert tuple(reversed(stages["layers"])) == STAGES
    assert stages["exhaustive"] is True  # a new top-level package must be placed explicitly
    assert {"stages", "govern-beside-store", "acyclic"} <= set(contracts)


def _not_python(folder: str, names: list[str]) -> list[str]:
    """Copy only the Python sources (the import graph); skip data, models and caches."""
    return [
        n
        for n in names
        if n == "__pycache__" or (Path(folder, n).is_file() and not n.endswith(".py"))
    ]


def _copy_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(
        ROOT / "src" / "garrison",
        tree / "src" / "garrison",
        ignore=_not_python,
    )
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


@pytest.mark.parametrize(
    ("module", "planted", "expected"),
    [
        (  # a stage importing a later one
            "store/state.py",
            "garrison.detect.base",
            "garrison.store is not allowed to import garrison.detect",
        ),
        (  # the generated scenario reached from a detector
            "detect/base.py",
            "garrison.demo.labels",
            "garrison.detect is not allowed to import garrison.demo",
        ),
        (  # govern reaching past store
            "govern/audit/log.py",
            "garrison.normalize.base",
            "garrison.govern is not allowed to import garrison.normalize",
        ),
        (  # a cycle between sibling modules (mordor already imports windows)
            "normalize/windows.py",
            "garrison.normalize.mordor",
            "No cycles are allowed in garrison.normalize",
        ),
    ],
)
def test_a_planted_import_breaks_the_contracts(
    tmp_path: Path, module: str, planted: str, expected: str
) -> None:
    tree = _copy_tree(tmp_path)
    target = tree / "src" / "garrison" / module
    text = target.read_text(encoding="utf-8")
    target.write_text(f"{text}\nimport {planted}  # planted\n", encoding="utf-8")
    res = _lint_imports(tree)
    assert res.returncode == 1, res.stdout + res.stderr
    assert expected in res.stdout, res.stdout
