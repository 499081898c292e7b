"""Training a model and registering what the run wrote: one audited service.

``garrison models train|register`` (and the REST API to come) call this service; the
command line only parses and prints. Why a service and not the command: the audit entry
must carry the identity of whoever asked (an API token's user, or the OS account at a
shell), and it must be written whichever interface asked, so ``@audited`` sits on these
methods and the actor is given when the service is opened.

Text models (``TEXT_MODELS``: dga, url, email) train in their own packages; the label
calibrations of ``ml.beacon`` / ``ml.ueba`` are fitted on the labelled corpus by
``measure.ml_eval.calibrate``, which is why this service lives in ``measure``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from garrison.core.config import GarrisonConfig
from garrison.core.errors import InputError, UsageError
from garrison.detect.ml.text import TrainRequest
from garrison.govern.access import Principal, authorizer, in_process
from garrison.govern.audit import AuditLog, artifact_digests, audited, open_audit

if TYPE_CHECKING:
    from garrison.detect.ml.text import TextModel
    from garrison.govern.registry.check import Report

#: Calibrations ``garrison.measure.ml_eval.calibrate`` fits; the text models come from
#: ``TEXT_MODELS``.
CALIBRATIONS = ("beacon-calibration", "ueba-calibration")

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Registered:
    """A registry entry as the interfaces print it."""

    name: str
    version: str
    signer: str
    new: bool


@dataclass(frozen=True, slots=True)
class Trained:
    """What a training run reports: its summary lines and the registry entry it made."""

    summary: list[str]
    registered: Registered


def trainable() -> tuple[str, ...]:
    from garrison.detect.ml.textmodels import TEXT_MODELS

    return (*TEXT_MODELS.names(), *CALIBRATIONS)


def _actor(self: ModelService, *_a: Any, **_k: Any) -> str | None:
    return self.actor


def _trained_files(_result: object, self: ModelService, name: str, request: TrainRequest,
                   *_a: Any, **_k: Any) -> dict[str, object]:  # fmt: skip
    """The audit details of a training run: where it wrote and the digest of each file."""
    # a calibration is written as NAME.calibration.json (ueba-calibration -> ueba.*)
    stem = name.removesuffix("-calibration")
    return {"folder": str(request.out), "written": artifact_digests(request.out, stem)}


class ModelService:
    """Train, scan, sign, register, list, verify and score models in one home, acting as
    ``actor``; every method asks ``authorize`` for its permission first (``models.train``,
    ``models.read``). Opened for a principal, that is the principal's permissions; built
    without one, the caller is trusted in-process code (``in_process``)."""

    def __init__(
        self,
        home: Path,
        audit: AuditLog,
        actor: str | None = None,
        authorize: Callable[[str], None] = in_process,
    ) -> None:
        self.home = home
        self.audit = audit
        self.actor = actor
        self.authorize = authorize
        #: Who scores, for the serving guard (``open`` sets it from the principal).
        self.principal: Principal | None = None
        #: The configuration the guard reads ``[guard]`` from (None: HOME/garrison.toml).
        self.config: GarrisonConfig | None = None

    @classmethod
    def open(
        cls,
        home: Path,
        actor: str | None = None,
        principal: Principal | None = None,
        config: GarrisonConfig | None = None,
    ) -> Self:
        """The service of ``home``; with ``principal``, acting as it with its permissions."""
        if principal is None:
            service = cls(home, open_audit(home), actor)
        else:
            service = cls(home, open_audit(home), principal.name, authorizer(principal))
            service.principal = principal
        service.config = config
        return service

    def registry(self, name: str | None = None) -> Report:
        """Every shipped and home model artefact with what does not hold (digest,
        signature, registry binding); with ``name``, only that model's rows."""
        from garrison.govern.registry.check import verify_all

        self.authorize("models.read")
        report = verify_all(self.home)
        if name is None:
            return report
        report = report.only(name)
        if not report.rows:
            raise UsageError(f"no model named {name!r} (see `garrison models list`)")
        return report

    def score(
        self, name: str, lines: Sequence[str], threshold: float | None = None
    ) -> list[dict[str, Any]]:
        """Score ``lines`` with the text model ``name`` (dga, url, email) as loaded for this
        home (its registry vouches for it, or loading refuses), one result per line, through
        the serving guard (``garrison.measure.serving``: quotas and rate limits, the query
        log, coarsening, the extraction test); ``TooManyRequests`` when it refuses."""
        from garrison.measure.serving import guard_for, guarded_score, scoring_client

        self.authorize("models.read")
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise UsageError("threshold must be between 0 and 1")
        from garrison.govern.registry.gate import production_model
        from garrison.measure.shadow import shadowed

        # keyed by the production file too: a promotion or rollback is served at once
        text, loaded = _loaded(name, self.home, production_model(name, self.home))
        shadow = shadowed(text, self.home, True, threshold)
        guard = guard_for(self.home, self.config)
        client = scoring_client(self.principal, self.actor)
        return guarded_score(
            guard, client, name, list(lines), lambda batch: shadow(loaded, batch), loaded
        )

    @audited(
        "models.train",
        actor=_actor,
        target=lambda self, name, *a, **k: name,
        details=lambda self, name, request, *a, **k: {
            "data": str(request.data),
            "seed": request.seed,
        },
        result=_trained_files,
    )
    def train(self, name: str, request: TrainRequest, say: Say) -> Trained:
        """Train ``name`` on ``request.data`` into ``request.out``, then register it."""
        self.authorize("models.train")
        from garrison.detect.ml.textmodels import TEXT_MODELS
        from garrison.measure.train_checks import TrainingChecks

        if name not in trainable():
            raise UsageError(
                f"cannot train {name!r}: trainable models are {', '.join(trainable())}"
            )
        if not request.data.is_dir():
            raise InputError(f"--data {request.data}: not a folder")
        if name in CALIBRATIONS:
            if request.holdout_benign or request.eval_report or request.per_family is not None:
                raise UsageError(f"{name} takes --data and --out only")
            if request.seed is not None:
                raise UsageError(f"{name} takes --data and --out only")
            summary = _train_calibration(name, request.data, request.out, say)
        else:
            checks = TrainingChecks.before(name, request, self.home, say)  # raises
            summary = list(TEXT_MODELS.get(name).train(request, say).summary)
            checks.after()  # raises: nothing is registered
        return Trained(summary, self._admit(name, request.out))

    @audited(
        "models.register",
        actor=_actor,
        target=lambda self, name, folder, *a, **k: name,
        details=lambda self, name, folder, *a, **k: {"folder": str(folder)},
        result=lambda r, *a, **k: {"version": r.version, "new": r.new},
    )
    def register(self, name: str, folder: Path) -> Registered:
        """Scan, sign and record a model (refused if a file is not skops or JSON, holds
        types outside the model's allowlist, or its version is taken)."""
        self.authorize("models.train")
        return self._admit(name, folder)

    def _admit(self, name: str, folder: Path) -> Registered:
        from garrison.detect.ml.textmodels import allowlist
        from garrison.govern.registry.admit import register_admitted

        if not folder.is_dir():
            raise InputError(f"--dir {folder}: not a folder")
        try:
            entry, new = register_admitted(self.home, folder, name, allowlist(name))
        except FileNotFoundError as exc:
            raise InputError(str(exc)) from exc
        return Registered(entry.name, entry.version, entry.signer, new)


@functools.lru_cache(maxsize=8)
def _loaded(name: str, home: Path, path: Path | None = None) -> tuple[TextModel, Any]:
    """A text model and its loaded artefact (``path``: the production version's file, None
    for the shipped one), once per process, home and file (loading verifies the artefact
    against the registry and costs far more than scoring a line)."""
    from garrison.detect.ml.textmodels import text_model

    text = text_model(name)
    return text, text.load(path, home)


def _train_calibration(name: str, corpus: Path, out: Path, say: Say) -> list[str]:
    from garrison.detect.ml.calibration import training_summary
    from garrison.measure.ml_eval.calibrate import train as train_calibration

    needs = "zeek-stratosphere" if name.startswith("beacon") else "auth"
    if not (corpus / needs).is_dir():
        raise InputError(f"--data {corpus}: no {needs}/ folder (give the corpus root)")
    try:
        path, calibration = train_calibration(name, corpus, out)
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"{name}: {exc}") from exc
    for warning in calibration.meta["warnings"]:
        say(f"  warning: {warning}")
    return list(training_summary(name, path, calibration))
