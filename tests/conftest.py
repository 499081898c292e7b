"""Shared fixtures. Tests that need ../shared/corpus use ``corpus`` and skip when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def corpus_root() -> Path:
    return Path(os.environ.get("GARRISON_CORPUS", ROOT.parent / "shared" / "corpus")).resolve()


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The labelled evaluation corpus; skips the test when it is not on this machine."""
    root = corpus_root()
    if not root.is_dir():
        pytest.skip(f"corpus not found at {root} (set GARRISON_CORPUS or clone beside shared/)")
    return root


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    """An empty GARRISON_HOME for one test."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture(autouse=True)
def _isolated_default_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commands run without ``--home`` use $GARRISON_HOME: point it at a temporary folder so
    no test writes keys, audit entries or models into the real ~/.garrison."""
    monkeypatch.setenv("GARRISON_HOME", str(tmp_path_factory.getbasetemp() / "default-home"))
