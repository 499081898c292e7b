"""A registry with a loader imports its built-in plugins on the first read, once; importing
``garrison.detect`` alone loads no detector module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from garrison.core.plugins import Registry

ROOT = Path(__file__).resolve().parents[3]


def test_loader_runs_once_on_first_read_not_on_register():
    calls: list[int] = []
    reg: Registry[int] = Registry(
        "number", loader=lambda: (calls.append(1), reg.register("two")(2))
    )
    reg.register("one")(1)
    assert calls == []
    assert reg.names() == ["one", "two"] and "two" in reg and len(reg) == 2
    assert reg.get("one") == 1 and dict(reg.items()) == {"one": 1, "two": 2}
    assert calls == [1]


def test_a_failed_loader_is_retried_and_raises_again():
    attempts: list[int] = []

    def broken() -> None:
        attempts.append(1)
        raise ImportError("missing model library")

    reg: Registry[int] = Registry("number", loader=broken)
    for _ in range(2):
        with pytest.raises(ImportError):
            reg.names()
    assert len(attempts) == 2


def _loaded(code: str) -> set[str]:
    res = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src")},
        check=True,
    )
    return set(res.stdout.split())


def test_importing_detect_loads_no_detector_until_the_registry_is_read():
    before = _loaded("import garrison.detect.intel.ioclist")
    assert "garrison.detect._builtin" not in before and "sklearn" not in before
    after = _loaded("from garrison.detect import DETECTORS; assert 'sigma' in DETECTORS")
    assert {"garrison.detect._builtin", "garrison.detect.sigma.detector"} <= after
