"""Options shared by every command, and the error -> exit code mapping."""

from __future__ import annotations

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

console = Console(stderr=False)
err_console = Console(stderr=True)
