"""The training-data defences every ``garrison models train`` runs before it registers.

``ModelService.train`` runs ``TrainingChecks.before`` on the dataset before the model
package trains (checks 1-3: a set that fails is never trained on, and the output folder is
left alone) and ``TrainingChecks.after`` on the trained model before anything is
registered (check 4). For the text models:

1. schema and range validation of the dataset (``train_schemas``, pandera);
2. drift of the training set against the approved one: the profile of the set the last
   run that passed these checks in this home trained on (``HOME/training/NAME.profile.json``;
   per-feature PSI and KS, and a classifier two-sample test);
3. label consistency against the approved model: every training row is scored by the model
   the home runs today (the shipped one, verified against the package manifest), and a row
   whose given label that model contradicts with probability above ``suspect_above`` is a
   suspect; the run fails when suspects are more than ``max_suspect_share`` of the set
   (clean corpora stay well below it; 5 % of flipped or backdoored records push it above:
   ``bench/bench_poisoning.py`` measures both);
4. the canary records shipped beside the model package (``canaries.yaml``): the newly
   trained model must give each its expected verdict.

Any failure: each failed check is said on its own line and ``TrainingChecksFailed`` (exit
1) is raised, so nothing is registered; the audit entry of the run records the failure.
When every check passes, the new set's profile is written to ``HOME/training/`` (it
becomes the approved set the next run is compared with) and the model card records the
checks' lines and the profile's SHA-256, so the signed card vouches for both. The profile
is not written into the model folder: the registry refuses files it did not sign there.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from garrison.core.errors import CheckFailed, InputError
from garrison.core.text import visible

if TYPE_CHECKING:
    from garrison.detect.ml.text import TrainRequest
    from garrison.govern.data.profile import Profile
    from garrison.measure.train_data import TrainingSet

Say = Callable[[str], None]
PROFILE = ".profile.json"


class TrainingChecksFailed(CheckFailed):
    """A training run failed a training-data check: its model is not registered."""


@dataclass(frozen=True, slots=True)
class CheckSettings:
    """Thresholds of the checks (defaults measured on the corpus: docs/training-defences.md)."""

    #: A row is a suspect when the approved model gives the other label more than this.
    suspect_above: float = 0.7
    #: The run fails when suspects are more than this share of the rows.
    max_suspect_share: float = 0.04
    examples: int = 3
    seed: int = 0


SETTINGS: dict[str, CheckSettings] = {
    # 0.65: at 0.7 the DGA check found 89 % of 5 % random flips, at 0.6 it flagged 5.2 %
    # of clean rows (bench_poisoning.py; docs/training-defences.md)
    "dga": CheckSettings(suspect_above=0.65),
    "url": CheckSettings(),
    "email": CheckSettings(max_suspect_share=0.05),
}


@dataclass(slots=True)
class Outcome:
    """What the checks found: failed lines, and lines said either way."""

    failed: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    #: Lines of ``said`` already said.
    shown: int = 0


class TrainingChecks:
    """The checks of one training run: ``before`` training (the data: schema, drift,
    labels) and ``after`` it (the trained model: canaries), then the approved profile
    and the card's record. Either raises ``TrainingChecksFailed``."""

    def __init__(self, name: str, request: TrainRequest, home: Path, say: Say) -> None:
        self.name, self.request, self.home, self.say = name, request, home, say
        self.outcome = Outcome()
        self.profile: Profile | None = None

    @classmethod
    def before(cls, name: str, request: TrainRequest, home: Path, say: Say) -> TrainingChecks:
        """Check the training data of ``name`` before anything is trained on it."""
        from garrison.measure.train_data import LOADERS

        checks = cls(name, request, home, say)
        if name not in LOADERS:  # calibrations: JSON fitted on the corpus, no text records
            return checks
        if name != "dga":
            request.refuse_unused(name)  # before reading anything, as the model would
        settings = SETTINGS[name]
        try:
            data = LOADERS[name](request)
        except (OSError, KeyError, TypeError, ValueError) as exc:  # JSON, missing fields
            raise InputError(f"--data {request.data}: {exc}") from exc
        check_schema(data, checks.outcome)
        checks.profile = check_drift(data, profile_path(home, name), settings, checks.outcome)
        check_labels(data, home, settings, checks.outcome)
        checks._settle()
        return checks

    def after(self) -> None:
        """Check the trained model (canaries); on success keep the approved profile and
        record the checks in the model card."""
        if self.profile is None:
            return
        check_canaries(self.name, self.request.out, self.outcome)
        self._settle()
        digest = write_profile(self.profile, profile_path(self.home, self.name))
        record_in_card(self.request.out / f"{self.name}.card.json", self.outcome.said, digest)

    def _settle(self) -> None:
        """Say what was found so far; raise if anything failed."""
        for line in self.outcome.said[self.outcome.shown :]:
            self.say(_safe(line))
        self.outcome.shown = len(self.outcome.said)
        if not self.outcome.failed:
            return
        for line in self.outcome.failed:
            self.say(_safe(f"  FAILED {line}"))
        kinds = sorted({f.split(":", 1)[0] for f in self.outcome.failed})
        raise TrainingChecksFailed(
            f"{self.name}: {len(self.outcome.failed)} training-data check(s) failed "
            f"({', '.join(kinds)}); no model from this run is registered"
        )


def _safe(line: str) -> str:
    """Attacker-controlled text (examples from the data) as one visible line, no markup."""
    return visible(line).replace("[", "\\[")


def profile_path(home: Path, name: str) -> Path:
    """Where the approved training profile of ``name`` is kept in ``home``."""
    return home / "training" / f"{name}{PROFILE}"


def record_in_card(card: Path, lines: list[str], profile_sha256: str) -> None:
    """Add the checks' lines and the approved profile's digest to the model card (the
    card is signed with the model at registration)."""
    data = json.loads(card.read_text(encoding="utf-8"))
    data["training_checks"] = {
        "passed": [line.strip() for line in lines],
        "profile_sha256": profile_sha256,
        "doc": "docs/training-defences.md",
    }
    card.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


# --- 1. schema -----------------------------------------------------------------------------


def check_schema(data: TrainingSet, outcome: Outcome) -> None:
    from garrison.measure.train_schemas import validate

    failed, notes = validate(data.model, data.raw, trained_labels=data.y.tolist())
    outcome.failed += failed
    outcome.said += [f"  note: {n}" for n in notes]
    if not failed:
        outcome.said.append(f"  check schema: ok ({len(data.raw):,} records)")


# --- 2. drift ------------------------------------------------------------------------------


def check_drift(
    data: TrainingSet, path: Path, settings: CheckSettings, outcome: Outcome
) -> Profile:
    """Compare with the approved profile at ``path``; the new set's profile, to keep."""
    from garrison.govern.data.profile import ProfileError, build_profile, compare

    profile = build_profile(
        data.x,
        data.features,
        {"model": data.model, "fingerprint": data.fingerprint, "rows": len(data.y)},
        seed=settings.seed,
    )
    if not path.is_file():
        outcome.said.append(
            f"  check drift: no approved training profile ({path}) yet; this set's profile "
            "becomes the approved one if every check passes"
        )
        return profile
    try:
        approved = _read_profile(path)
        report = compare(approved, data.x, data.features, seed=settings.seed)
    except ProfileError as exc:
        outcome.failed.append(f"drift: {path}: {exc}")
        return profile
    failures = report.failures()
    outcome.failed += [f"drift: {f}" for f in failures]
    if not failures:
        worst = max(report.features, key=lambda f: f.psi)
        outcome.said.append(
            f"  check drift: ok against {path.name} ({approved.rows:,} rows): max PSI "
            f"{worst.psi:.3f} ({worst.feature}), two-sample AUC {report.two_sample_auc:.3f}"
        )
    return profile


def _read_profile(path: Path) -> Profile:
    from garrison.govern.data.profile import Profile, ProfileError

    try:
        return Profile.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise ProfileError(f"unreadable: {exc}") from exc


def write_profile(profile: Profile, path: Path) -> str:
    """Write ``profile`` (compact JSON); its SHA-256."""
    blob = (json.dumps(profile.to_json(), separators=(",", ":")) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)
    return hashlib.sha256(blob).hexdigest()


# --- 3. label consistency (poisoning, label noise) ----------------------------------------


def suspects(p_malicious: Any, y: Any, above: float, texts: Sequence[str] | None = None) -> Any:
    """Rows whose given label the reference model contradicts with probability > above;
    with ``texts``, also the rows of the same given label that share what the caught rows
    of that label share and the rest do not (``trigger_suspects``)."""
    p = np.asarray(p_malicious, dtype=np.float64)
    y = np.asarray(y)
    other = np.where(y == 1, 1.0 - p, p)
    flagged = other > above
    if texts is not None:
        flagged |= trigger_suspects(texts, y, flagged)
    return np.flatnonzero(flagged)


def trigger_suspects(texts: Sequence[str], y: Any, flagged: Any) -> Any:
    """Per given label, the rows carrying a character 4-gram enriched in that label's
    flagged rows (``govern.data.noise.enriched_columns``) and as rare in the other label:
    the rest of a backdoor. (Flipped rows share what their true class shares, which the
    other label has too; a trigger is new to both.)"""
    from sklearn.feature_extraction.text import HashingVectorizer

    from garrison.govern.data.noise import enriched_columns, rows_with_columns

    grams = HashingVectorizer(
        analyzer="char", ngram_range=(4, 4), n_features=1 << 20, alternate_sign=False,
        norm=None, binary=True, lowercase=True,
    ).transform(list(texts))  # fmt: skip
    out = np.zeros(len(y), dtype=bool)
    for label in (0, 1):
        rows = np.flatnonzero(y == label)
        if len(rows) == 0:
            continue
        sub = grams[rows]
        columns = enriched_columns(sub, flagged[rows], elsewhere=grams[y != label])
        out[rows] = rows_with_columns(sub, columns)
    return out


def check_labels(data: TrainingSet, home: Path, settings: CheckSettings, outcome: Outcome) -> None:
    from garrison.detect.ml.textmodels import text_model

    reference = text_model(data.model).load(None, home)
    flagged = suspects(data.score(reference), data.y, settings.suspect_above, data.content)
    share = len(flagged) / max(len(data.y), 1)
    by_label = np.bincount(data.y[flagged], minlength=2) if len(flagged) else np.zeros(2, int)
    examples = ", ".join(
        f"{data.texts[i]!r} labelled {'malicious' if data.y[i] else 'benign'}"
        for i in flagged[: settings.examples]
    )
    line = (
        f"labels: {len(flagged):,} of {len(data.y):,} records ({share:.2%}) carry a label the "
        f"approved model ({getattr(reference, 'version', '?')}) contradicts with P > "
        f"{settings.suspect_above} ({by_label[0]} labelled benign, {by_label[1]} malicious)"
    )
    if share > settings.max_suspect_share:
        outcome.failed.append(f"{line}, over {settings.max_suspect_share:.0%}; e.g. {examples}")
    else:
        outcome.said.append(f"  check {line}: ok (at most {settings.max_suspect_share:.0%})")


# --- 4. canaries ---------------------------------------------------------------------------


def check_canaries(name: str, out: Path, outcome: Outcome) -> None:
    from garrison.measure.canaries import run_canaries

    failures, total = run_canaries(name, out / f"{name}.skops")
    outcome.failed += [f"canary: {f}" for f in failures]
    if not failures:
        outcome.said.append(f"  check canaries: ok ({total} of {total} as expected)")
