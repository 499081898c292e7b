"""The ``garrison`` Typer application: a table of commands, loaded on demand, and the
mapping of errors to exit codes.

``garrison --help`` and every command import only what they need: the root group lists the
commands from ``COMMANDS`` (name -> module, object, one-line help) without importing them,
and imports a command's module only when that command runs (or shows its own help).
``tests/unit/interfaces/test_app_lazy.py`` keeps the table's help equal to each command's.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import logging
import sys
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True, slots=True)
class Entry:
    """Where a command lives: ``module:attribute`` is a Typer app (a command group), a
    command function, or (``factory``) a function returning the Typer app."""

    target: str
    help: str
    factory: bool = False


_CLI = "garrison.interfaces.cli"

#: Every command, in the order ``--help`` lists them.
COMMANDS: dict[str, Entry] = {
    "hunt": Entry(
        f"{_CLI}.hunt:hunt",
        "Ingest, detect, triage and correlate; write findings, incidents, quarantine, summary.",
    ),
    "demo": Entry(
        f"{_CLI}.demo:demo",
        "Generate a realistic intrusion over benign telemetry, hunt through it, score the hunt.",
    ),
    "kpi": Entry(
        f"{_CLI}.kpi:kpi",
        "MTTD, MTTA, MTTR, alert-to-incident reduction, FP rate per rule, detector quality.",
    ),
    "score": Entry(
        f"{_CLI}.score:score", "Score one input per line; write one JSON object per line."
    ),
    "version": Entry(f"{_CLI}.app:version", "Print the Garrison version."),
    "rules": Entry(f"{_CLI}.rules:rules_app", "Work with Sigma rule folders."),
    "findings": Entry(
        f"{_CLI}.triage:findings_app", "Stored findings: list, verdicts, tuning suggestions."
    ),
    "incidents": Entry(
        f"{_CLI}.triage:incidents_app",
        "Stored incidents: list, show, workflow, merge, split, similar.",
    ),
    "allowlist": Entry(
        f"{_CLI}.triage:allowlist_app", "Allowlist and exceptions, applied to stored findings too."
    ),
    "playbooks": Entry(
        f"{_CLI}.playbooks:playbooks_app",
        "Response playbooks: check them, simulate them on stored findings before go-live.",
    ),
    "respond": Entry(
        f"{_CLI}.respond:respond",
        "Run playbooks on findings and incidents no playbook has handled yet.",
    ),
    "approvals": Entry(
        f"{_CLI}.respond:approvals_app",
        "Actions waiting for a human: list, approve (optionally with edits), reject.",
    ),
    "actions": Entry(
        f"{_CLI}.respond:actions_app", "Actions playbooks took: list them, undo a reversible one."
    ),
    "models": Entry(f"{_CLI}.models:models_app", "Train and manage detection models."),
    "audit": Entry(f"{_CLI}.audit:audit_app", "The tamper-evident audit log."),
    "users": Entry(
        f"{_CLI}.users:users_app", "Users and their roles (the first admin needs no login)."
    ),
    "tokens": Entry(f"{_CLI}.users:tokens_app", "API tokens: issue, list, revoke."),
    "privacy": Entry(
        f"{_CLI}.privacy:privacy_app",
        "Privacy: reveal a pseudonym, retention, data-subject export and deletion.",
    ),
    "serve": Entry(
        f"{_CLI}.serve:serve",
        "Serve the REST API (OpenAPI at /openapi.json); /healthz needs no credentials.",
    ),
    "eval": Entry(f"{_CLI}.app:eval_commands", "Evaluate detectors on labelled data.", True),
}


def version() -> None:
    """Print the Garrison version."""
    from garrison import __version__

    typer.echo(f"garrison {__version__}")


@functools.cache
def eval_commands() -> typer.Typer:
    """The ``eval`` group with every evaluation registered on it (once per process)."""
    from garrison.interfaces.cli.evaluate import eval_app
    from garrison.interfaces.cli.evaluate_egress import register as register_egress_eval
    from garrison.interfaces.cli.evaluate_email import register as register_email_eval
    from garrison.interfaces.cli.evaluate_lookalike import register as register_lookalike_eval
    from garrison.interfaces.cli.evaluate_net import register as register_net_evals
    from garrison.interfaces.cli.evaluate_url import register as register_url_eval

    register_net_evals(eval_app)
    register_lookalike_eval(eval_app)
    register_egress_eval(eval_app)
    register_url_eval(eval_app)
    register_email_eval(eval_app)
    return eval_app


def load_command(name: str) -> Any:
    """Import the command ``name`` and build its click command (a group or a command)."""
    entry = COMMANDS[name]
    module_name, attr = entry.target.split(":")
    obj: Any = getattr(importlib.import_module(module_name), attr)
    if entry.factory:
        obj = obj()
    if isinstance(obj, typer.Typer):
        group = typer.main.get_group(obj)
        group.name = name
        return group
    single = typer.Typer(add_completion=False)
    single.command(name)(obj)
    return typer.main.get_command(single)


class LazyGroup(TyperGroup):
    """The root group: lists ``COMMANDS`` from the table and imports a command's module
    only when it is run. While the root help is formatted, a command is a stub carrying
    its one-line help, so ``garrison --help`` imports no command module."""

    _listing = False

    # ctx and formatter are typer's (vendored) click types, typed Any here on purpose
    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(n for n in super().list_commands(ctx) if n not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        known = super().get_command(ctx, cmd_name)
        if known is not None or cmd_name not in COMMANDS:
            return known
        if self._listing:
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name].help)
        command = load_command(cmd_name)
        self.add_command(command, cmd_name)
        return command

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """As typer's, with its "Did you mean" suggestion drawn from the whole table (typer
        draws it from the commands already loaded)."""
        try:
            return super().resolve_command(ctx, args)
        except typer.TyperException as exc:
            message = getattr(exc, "message", None)
            if args and isinstance(message, str) and "Did you mean" not in message:
                matches = difflib.get_close_matches(args[0], self.list_commands(ctx))
                if matches:
                    names = ", ".join(f"{m!r}" for m in matches)
                    exc.message = f"{message.rstrip('.')}. Did you mean {names}?"
            raise

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="garrison",
    cls=LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Garrison: self-hosted, AI-assisted security operations.",
)


@app.callback()
def _root() -> None:
    """Garrison: self-hosted, AI-assisted security operations."""


class _VisibleWriter:
    """A stderr for click's own error messages (they quote what was typed): control
    characters made visible before they reach the terminal."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        from garrison.core.text import visible_lines

        return int(self._stream.write(visible_lines(text)) or 0)

    def flush(self) -> None:
        self._stream.flush()


def main() -> None:
    """Entry point: run the app and map errors to the exit codes of docs/contracts.md."""
    from garrison.core.errors import GarrisonError
    from garrison.interfaces.cli.common import err_console, show

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = app(standalone_mode=False)
    except GarrisonError as exc:
        # messages quote paths and config text: shown, never read as markup or controls
        err_console.print(f"[red]error:[/] {show(exc)}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        sys.exit(130)
    except typer.TyperException as exc:  # click usage errors: missing/bad parameters
        show_error = getattr(exc, "show", None)
        if callable(show_error):
            show_error(file=_VisibleWriter(sys.stderr))
        else:
            err_console.print(f"error: {show(exc)}", soft_wrap=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
