"""``garrison models ...``: model training (``train``). Other model commands join ``models_app``.

``garrison models train dga --data DIR [--out DIR]`` retrains the DGA model reproducibly
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

import importlib
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from garrison.core.config import resolve_home
from garrison.core.errors import CheckFailed, InputError, UsageError
from garrison.govern.audit import AuditLog, artifact_digests, audited, open_audit
from garrison.interfaces.cli.common import HomeOption, console, err_console

models_app = typer.Typer(
    name="models", no_args_is_help=True, help="Train and manage detection models."
)

TRAINABLE = ("dga", "beacon-calibration", "ueba-calibration", "url", "email")
#: Text models trained by ``garrison.interfaces.cli.train_<name>.train_model(data, out, seed)``.
_TEXT_MODELS = ("url", "email")


def _audit_log(*_a: object, home: Path | None = None, **_k: object) -> AuditLog:
    return open_audit(resolve_home(home))


def _trained(
    _result: object, name: str, *_a: object, out: Path | None = None, **k: object
) -> dict[str, object]:
    """The audit details of a training run: where it wrote and the digest of each file."""
    home = k.get("home")
    folder = out or resolve_home(home if isinstance(home, str | Path) else None) / "models"
    # a calibration is written as NAME.calibration.json (ueba-calibration -> ueba.*)
    stem = name.removesuffix("-calibration")
    return {"folder": str(folder), "written": artifact_digests(folder, stem)}


@models_app.command("train")
@audited(
    "models.train",
    target=lambda name, *a, **k: name,
    details=lambda *a, data=None, seed=None, **k: {"data": str(data), "seed": seed},
    result=_trained,
    log=_audit_log,
)
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
) -> None:
    """Train a model reproducibly and write it with its model card."""
    if name not in TRAINABLE:
        raise UsageError(f"cannot train {name!r}: trainable models are {', '.join(TRAINABLE)}")
    if not data.is_dir():
        raise InputError(f"--data {data}: not a folder")
    if name.endswith("-calibration"):
        _train_calibration(name, data, out or resolve_home(home) / "models")
        _register_trained(name, out or resolve_home(home) / "models", home)
        return
    if name in _TEXT_MODELS:
        _train_text_model(name, data, out or resolve_home(home) / "models", seed)
        _register_trained(name, out or resolve_home(home) / "models", home)
        return
    for path in holdout_benign or []:
        if not path.is_file():
            raise InputError(f"--holdout-benign {path}: no such file")
    report = None
    if eval_report is not None:
        try:
            report = json.loads(eval_report.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"--eval-report {eval_report}: {exc}") from exc
    from dataclasses import replace

    from garrison.detect.ml.dga.build import attach_evaluation, train_and_save
    from garrison.detect.ml.dga.train import TrainParams

    params = TrainParams()
    if seed is not None:
        params = replace(params, seed=seed)
    if per_family is not None:
        if per_family < 10:
            raise UsageError("--per-family must be at least 10")
        params = replace(params, per_family=per_family)
    target = out or resolve_home(home) / "models"
    try:
        path, card = train_and_save(
            data,
            target,
            params,
            holdout_benign,
            progress=lambda msg: err_console.print(msg, highlight=False),
        )
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise InputError(str(exc)) from exc
    if report is not None:
        try:
            card = attach_evaluation(path, report)
        except (KeyError, ValueError) as exc:
            raise InputError(f"--eval-report not attached: {exc}") from exc
    _register_trained(name, target, home)
    calib = card["metrics"]["calibration_split"]
    console.print(
        f"model {card['version']}: threshold {card['threshold']:.4f} "
        f"(FPR {params.target_fpr:.0%} on the calibration split), calibration AUC "
        f"{calib['auc']}, {card['size_bytes']:,} bytes -> {path}",
        highlight=False,
    )
    for list_name, entry in card["metrics"]["heldout_benign"].items():
        console.print(
            f"  held-out benign {list_name}: FPR {entry['fpr_at_threshold']} on {entry['n']} names",
            highlight=False,
        )


def _train_text_model(name: str, data: Path, out: Path, seed: int | None) -> None:
    module = f"garrison.interfaces.cli.train_{name}"
    try:
        trainer = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise UsageError(f"the {name!r} model cannot be trained in this build") from None
    trainer.train_model(data, out, seed)


def _train_calibration(name: str, corpus: Path, out: Path) -> None:
    from garrison.measure.ml_eval.calibrate import train as train_calibration

    needs = "zeek-stratosphere" if name.startswith("beacon") else "auth"
    if not (corpus / needs).is_dir():
        raise InputError(f"--data {corpus}: no {needs}/ folder (give the corpus root)")
    try:
        path, calibration = train_calibration(name, corpus, out)
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"{name}: {exc}") from exc
    fitted = calibration.meta["fitted_on"]
    quality = calibration.meta["evaluation"]
    loco = quality["leave_one_capture_out"]
    console.print(
        f"{name}: {fitted['records']} labelled records, {fitted['positives']} positives; "
        f"slope {calibration.slope:.3f}, intercept {calibration.intercept:.3f}; "
        f"leave-one-capture-out Brier {loco['brier']} (no-skill "
        f"{quality['leave_one_capture_out_no_skill_brier']}) -> {path}",
        highlight=False,
    )
    for warning in calibration.meta["warnings"]:
        err_console.print(f"  warning: {warning}", highlight=False)


# --- the model registry: list, verify, register (garrison.govern.registry) ----------------


def _register_trained(name: str, folder: Path, home: Path | None) -> None:
    """Sign and record a model ``train`` just wrote (refused if its version is taken)."""
    from garrison.govern.registry.store import register_model

    entry, new = register_model(resolve_home(home), folder, name)
    what = "registered" if new else "already registered,"
    console.print(
        f"{what} {entry.name} {entry.version} in the model registry (signed by {entry.signer})",
        highlight=False,
    )


@models_app.command("list")
def list_models(home: HomeOption = None) -> None:
    """List shipped and home models: version, origin, digest, signer and status."""
    from rich.table import Table

    from garrison.govern.registry.check import verify_all

    report = verify_all(resolve_home(home))
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
) -> None:
    """Check every model's digest, signature and registry binding; exit 1 on any failure."""
    from garrison.govern.registry.check import verify_all

    report = verify_all(resolve_home(home))
    if name is not None:
        report = report.only(name)
        if not report.rows:
            raise UsageError(f"no model named {name!r} (see `garrison models list`)")
    for problem in report.problems:
        console.print(f"FAIL {problem}", highlight=False, markup=False)
    if report.problems:
        raise CheckFailed(f"{len(report.problems)} model registry check(s) failed")
    console.print(f"{len(report.rows)} model artefact(s) verified", highlight=False)


@models_app.command("register")
def register(
    name: Annotated[str, typer.Argument(help="Model name (dga, url, email, NAME-calibration).")],
    folder: Annotated[Path, typer.Option("--dir", help="Folder holding the model's files.")],
    home: HomeOption = None,
) -> None:
    """Sign and record a model you trust (e.g. one trained before the registry existed)."""
    if not folder.is_dir():
        raise InputError(f"--dir {folder}: not a folder")
    try:
        _register_trained(name, folder, home)
    except FileNotFoundError as exc:
        raise InputError(str(exc)) from exc
