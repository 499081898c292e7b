"""``garrison privacy reveal|retention|export|delete``: the privacy controls of a home.

Thin: each command opens ``PrivacyService`` acting as the CLI's identity (the OS account's
registered user, ``govern.access.cli_principal``), calls it and prints. The service checks
``privacy.manage`` (admin) and audits every call with that identity. ``retention`` and
``delete`` change nothing without ``--apply`` / ``--yes``: they print what would go.
``export`` writes JSON lines to stdout or to a new file (0600; an existing file is never
overwritten) and its counts to stderr; the others print their report as JSON on stdout
and any notice on stderr, so a script can parse stdout.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from garrison.core.errors import InputError
from garrison.correlate.privacy import PrivacyService
from garrison.govern.access import cli_principal
from garrison.govern.audit import open_audit
from garrison.intake_records import privacy_service
from garrison.interfaces.cli.common import ConfigOption, HomeOption, config_for, print_json
from garrison.store.state import StateDB

privacy_app = typer.Typer(
    name="privacy",
    no_args_is_help=True,
    add_completion=False,
    help="Privacy: reveal a pseudonym, retention, data-subject export and deletion.",
)

Who = Annotated[str, typer.Argument(help="The person: a user name or address, or its pn: token.")]


def _service(home: Path | None, config: Path | None) -> PrivacyService:
    cfg = config_for(home, config)
    state = StateDB(cfg.home / "state.db")
    return privacy_service(cfg, state, open_audit(cfg.home, state), cli_principal(state))


@privacy_app.callback()
def privacy_main() -> None:
    """Privacy: reveal a pseudonym, retention, data-subject export and deletion."""


@privacy_app.command("reveal")
def reveal(
    token: Annotated[str, typer.Argument(help="A pn: token from the lake or a finding.")],
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """The original value behind a pseudonym (admin only; audited)."""
    value = _service(home, config).reveal(token)
    typer.echo(json.dumps(value, ensure_ascii=True))


@privacy_app.command("retention")
def retention(
    apply: Annotated[bool, typer.Option("--apply", help="Delete what is listed.")] = False,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """List lake partitions older than their source's retention; delete them with --apply."""
    report = _service(home, config).retention(apply=apply)
    print_json(report.to_json())
    if not apply and report.partitions:
        typer.echo("dry run: nothing deleted; run again with --apply", err=True)


def _open_out(out: Path) -> Any:
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(f"--out {out}: the file exists; choose a new name") from None
    except OSError as exc:
        raise InputError(f"--out {out}: {exc.strerror or exc}") from None
    return os.fdopen(fd, "w", encoding="utf-8")


@privacy_app.command("export")
def export(
    who: Who,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this new file (0600), not stdout.")
    ] = None,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Every event, finding, incident, response record and spooled upload line mentioning a
    person, as JSON lines."""
    service = _service(home, config)
    if out is None:
        report = service.export(who, sys.stdout.write)
    else:
        with _open_out(out) as handle:
            report = service.export(who, handle.write)
    typer.echo(json.dumps(report.to_json()), err=True)


@privacy_app.command("delete")
def delete(
    who: Who,
    yes: Annotated[bool, typer.Option("--yes", help="Really delete (else: a dry run).")] = False,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Remove a person's events, findings, incidents, profile and vault entry, scrub finished
    response records, cut spooled upload lines (dry run without --yes)."""
    report = _service(home, config).delete(who, apply=yes)
    print_json(report.to_json())
    if not yes:
        typer.echo("dry run: nothing deleted; run again with --yes", err=True)
