"""The house tooling is part of the test suite, so lint and types cannot rot on paper."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (ROOT / ".venv").exists(), reason="ruff not installed"
)
def test_ruff_lint_and_format() -> None:
    lint = _run("ruff", "check", "src", "tests", "bench")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run("ruff", "format", "--check", "src", "tests", "bench")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.slow
def test_mypy_over_the_package() -> None:
    res = _run("mypy")
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-2000:]
