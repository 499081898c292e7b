"""Options shared by every command, and the error -> exit code mapping."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="State directory (default $GARRISON_HOME, else ~/.garrison)."),
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Configuration file (default HOME/garrison.toml).")
]

#: Piped or redirected output gets 120 columns instead of rich's 80, so tables stay readable.
console = Console(stderr=False, width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True)
