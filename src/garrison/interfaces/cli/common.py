"""What every command shares: the ``--home``/``--config`` options, the consoles, and the one
way text reaches the terminal (``show``, ``show_lines``, ``print_json``).

Every command declares ``home: HomeOption = None, config: ConfigOption = None`` and turns
them into a configuration with ``config_for``; no command defines its own ``--home``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from garrison.core.config import GarrisonConfig, load_config, resolve_home
from garrison.core.text import visible, visible_lines

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


def config_for(home: Path | None, config: Path | None) -> GarrisonConfig:
    """The configuration of ``--home``/``--config`` (a broken file is an exit-2 error)."""
    return load_config(home, config)


def home_for(home: Path | None, config: Path | None) -> Path:
    """The home folder; the configuration file is read (and checked) only when given, so a
    command that needs no configuration still runs on a home whose garrison.toml is broken."""
    return load_config(home, config).home if config is not None else resolve_home(home)


def show(text: object, width: int | None = None) -> str:
    """Attacker-influenced text for a rich console: control characters made visible
    (``core.text.visible``) and rich markup escaped, so ``[link=...]`` stays text too."""
    return escape(visible(text, width))


def show_lines(text: object) -> str:
    """As ``show`` for text whose line breaks are meant (descriptions)."""
    return escape(visible_lines(text))


def print_json(obj: Any) -> None:
    """Pretty JSON on stdout, ASCII only: every control or bidi character in a value is a
    ``\\uXXXX`` escape, never a raw byte (rich re-encodes, so it is told too)."""
    console.print_json(json.dumps(obj, default=str, ensure_ascii=True), ensure_ascii=True)
