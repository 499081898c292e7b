"""``garrison models ...``: thin commands over the model services (train, list, verify,
register, scan; promote, rollback, stages and shadow-report in ``models_stage``).

``garrison models train NAME --data DIR [--out DIR]`` trains a text model of ``TEXT_MODELS``
(``garrison.detect.ml.text``: dga, url, email; the model package does the work and says what
it wrote) or a calibration, then scans and registers what was written. For example
``garrison models train dga --data DIR`` retrains the DGA model reproducibly
(seeded) and writes the skops artefact and its JSON model card (data fingerprint, params,
threshold and the FPR it was fixed at, metrics). Without ``--out`` it goes to
``HOME/models/``; the detector and ``garrison score`` use it when given ``--model`` (or the
``model`` detector option), otherwise the model shipped with the package.

``garrison models train beacon-calibration|ueba-calibration --data CORPUS [--out DIR]`` fits
the label-calibrated confidence of ``ml.beacon`` / ``ml.ueba`` on the labelled corpus and
writes ``NAME.calibration.json`` (to ``HOME/models/`` by default; the detectors use it when
given its path as their ``calibration`` option, otherwise the file shipped with the package;
``--out src/garrison/detect/ml/models`` refreshes the shipped one).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from garrison.core.config import load_config
from garrison.core.errors import CheckFailed, UsageError
from garrison.govern.audit.log import current_actor
from garrison.interfaces.cli import models_stage as _models_stage
from garrison.interfaces.cli.common import ConfigOption, HomeOption, console, err_console
from garrison.interfaces.cli.models_redteam import redteam
from garrison.interfaces.cli.models_scan import scan as _scan

if TYPE_CHECKING:
    from garrison.measure.training import ModelService, Registered

models_app = typer.Typer(
    name="models", no_args_is_help=True, help="Train and manage detection models."
)
models_app.command("redteam")(redteam)


def _say(message: str) -> None:
    err_console.print(message, highlight=False)


def _service(home: Path | None, config: Path | None) -> ModelService:
    from garrison.measure.training import ModelService

    return ModelService.open(load_config(home, config).home, actor=current_actor())


def _print_registered(entry: Registered) -> None:
    what = "registered" if entry.new else "already registered,"
    console.print(
        f"{what} {entry.name} {entry.version} in the model registry (signed by {entry.signer})",
        highlight=False,
    )


@models_app.command("train")
def train(
    name: Annotated[
        str,
        typer.Argument(
            help="Model to train: dga, url, email, beacon-calibration, ueba-calibration."
        ),
    ],
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            help="Dataset folder (for dga: FAMILY.txt files and opendns/benign lists; for "
            "a calibration: the corpus root).",
        ),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default HOME/models).")
    ] = None,
    holdout_benign: Annotated[
        list[Path] | None,
        typer.Option(
            "--holdout-benign",
            help="Benign list never trained on, for the card's FPR "
            "(repeatable; default: ../benign-domains lists).",
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    eval_report: Annotated[
        Path | None,
        typer.Option(
            "--eval-report",
            help="A `garrison eval dga` JSON report of the same recipe and data: its "
            "summary goes into the model card.",
        ),
    ] = None,
    per_family: Annotated[
        int | None, typer.Option("--per-family", help="Names drawn per family.")
    ] = None,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Train a model reproducibly and write it with its model card."""
    from garrison.detect.ml.text import TrainRequest

    service = _service(home, config)
    request = TrainRequest(
        data, out or service.home / "models", seed, tuple(holdout_benign or ()), eval_report,
        per_family,
    )  # fmt: skip
    trained = service.train(name, request, _say)
    for line in trained.summary:
        console.print(line, highlight=False)
    _print_registered(trained.registered)


# --- the model registry: list, verify, register (garrison.govern.registry) ----------------


@models_app.command("list")
def list_models(home: HomeOption = None, config: ConfigOption = None) -> None:
    """List shipped and home models: version, origin, digest, signer and status."""
    from rich.table import Table

    from garrison.govern.registry.check import verify_all

    report = verify_all(load_config(home, config).home)
    table = Table("name", "version", "origin", "sha256", "signed by", "status")
    for row in report.rows:
        status = row.status if row.status in ("ok", "absent") else f"[red]{row.status}[/]"
        table.add_row(
            escape(row.name),
            escape(row.version),
            row.origin,
            row.digest,
            escape(row.signer),
            status,
        )
    console.print(table)


@models_app.command("verify")
def verify_models(
    name: Annotated[str | None, typer.Argument(help="Only this model (default: all).")] = None,
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Check every model's digest, signature and registry binding; exit 1 on any failure."""
    from garrison.govern.registry.check import verify_all

    report = verify_all(load_config(home, config).home)
    if name is not None:
        report = report.only(name)
        if not report.rows:
            raise UsageError(f"no model named {name!r} (see `garrison models list`)")
    for problem in report.problems:
        console.print(f"FAIL {problem}", highlight=False, markup=False)
    if report.problems:
        raise CheckFailed(f"{len(report.problems)} model registry check(s) failed")
    console.print(f"{len(report.rows)} model artefact(s) verified", highlight=False)
    console.print(f"shipped manifests signed by release key {_release_key()}", highlight=False)


def _release_key() -> str:
    from garrison.govern.registry.release import release_key_id

    return release_key_id()


@models_app.command("register")
def register(
    name: Annotated[str, typer.Argument(help="Model name (dga, url, email, NAME-calibration).")],
    folder: Annotated[Path, typer.Option("--dir", help="Folder holding the model's files.")],
    home: HomeOption = None,
    config: ConfigOption = None,
) -> None:
    """Scan, sign and record a model you trust (e.g. one trained before the registry
    existed). Only skops and JSON files are signed, and a skops file only when every type
    it holds is on the model's allowlist: a pickle is refused (exit 2), a skops file naming
    other types (``posix.system``...) fails the scan (exit 1)."""
    _print_registered(_service(home, config).register(name, folder))


# --- stages: promote, rollback, stages (garrison.interfaces.cli.models_stage) ---------------
_models_stage.register(models_app)
models_app.command("scan")(_scan)
