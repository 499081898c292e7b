"""A small generated demo data set, built once per test session (generation is deterministic)."""

from __future__ import annotations

import json

import pytest
from demo_support import SMALL, SmallDemo

from garrison.demo.service import DemoOptions, generate


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> SmallDemo:
    out = tmp_path_factory.mktemp("demo") / "out"
    options = DemoOptions(out=out, **SMALL)
    generated = generate(options)
    assert json.loads(options.labels_path.read_text()) == generated.labels
    return SmallDemo(options, generated)
