"""The ``garrison`` Typer application: registers commands and maps errors to exit codes."""

from __future__ import annotations

import logging
import sys

import typer
from rich.markup import escape

from garrison.core.errors import GarrisonError
from garrison.interfaces.cli.audit import audit_app
from garrison.interfaces.cli.common import err_console
from garrison.interfaces.cli.demo import demo
from garrison.interfaces.cli.evaluate import eval_app
from garrison.interfaces.cli.evaluate_egress import register as register_egress_eval
from garrison.interfaces.cli.evaluate_email import register as register_email_eval
from garrison.interfaces.cli.evaluate_lookalike import register as register_lookalike_eval
from garrison.interfaces.cli.evaluate_net import register as register_net_evals
from garrison.interfaces.cli.evaluate_url import register as register_url_eval
from garrison.interfaces.cli.hunt import hunt
from garrison.interfaces.cli.kpi import kpi
from garrison.interfaces.cli.models import models_app
from garrison.interfaces.cli.rules import rules_app
from garrison.interfaces.cli.score import score
from garrison.interfaces.cli.triage import allowlist_app, findings_app, incidents_app

app = typer.Typer(
    name="garrison",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Garrison: self-hosted, AI-assisted security operations.",
)
app.command()(hunt)
app.command()(demo)
app.command()(kpi)
app.add_typer(rules_app)
app.add_typer(findings_app)
app.add_typer(incidents_app)
app.add_typer(allowlist_app)
app.command()(score)
app.add_typer(models_app)
app.add_typer(audit_app)
register_net_evals(eval_app)
register_lookalike_eval(eval_app)
register_egress_eval(eval_app)
register_url_eval(eval_app)
register_email_eval(eval_app)
app.add_typer(eval_app)


@app.command()
def version() -> None:
    """Print the Garrison version."""
    from garrison import __version__

    typer.echo(f"garrison {__version__}")


def main() -> None:
    """Entry point: run the app and map errors to the exit codes of docs/contracts.md."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = app(standalone_mode=False)
    except GarrisonError as exc:
        # messages quote paths and config text: escaped, never read as rich markup
        err_console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        sys.exit(130)
    except typer.TyperException as exc:  # click usage errors: missing/bad parameters
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err_console.print(f"error: {escape(str(exc))}", soft_wrap=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
