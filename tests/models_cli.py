"""Run ``garrison score`` and ``garrison models ...`` in-process, as ``garrison`` does."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from garrison.core.errors import GarrisonError
from garrison.interfaces.cli.models import models_app
from garrison.interfaces.cli.score import score


def invoke(args: list[str], stdin: str | None = None) -> tuple[int, str]:
    """Exit code and output: a GarrisonError gives its exit code and its one-line message
    (after whatever the command printed), like ``garrison.interfaces.cli.app.main``."""
    app = typer.Typer()
    app.command()(score)
    app.add_typer(models_app)
    result = CliRunner().invoke(app, args, input=stdin)
    if isinstance(result.exception, GarrisonError):
        return result.exception.exit_code, result.stdout + str(result.exception)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout
