"""Run the runnable examples in the docstrings of core modules."""

import doctest
import importlib

import pytest

MODULES = [
    "garrison.core.attack",
    "garrison.core.entities",
    "garrison.core.incidents",
    "garrison.core.paths",
    "garrison.core.plugins",
    "garrison.core.timeutil",
    "garrison.ingest.base",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module)
    assert result.failed == 0
    assert result.attempted > 0
