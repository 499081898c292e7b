"""Evaluation commands that live in their own module, ``evaluate_<name>.py`` with a
``register(app)`` function, joined to ``garrison eval`` when the module is part of the build."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

import typer


def register_optional_evals(app: typer.Typer, names: Iterable[str]) -> None:
    for name in names:
        module = f"garrison.interfaces.cli.evaluate_{name}"
        try:
            found = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # the module exists but something it needs is missing
                raise
            continue
        found.register(app)
