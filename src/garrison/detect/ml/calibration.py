"""Label-calibrated confidences for the ML detectors: score -> P(malicious).

A detector's own score (a beacon score, a Poisson or Good-Turing tail probability) says
how unusual something is under a stated null model, not how often such findings turn out
to be attacks. ``Calibration`` maps the score to that probability with Platt scaling
(Platt 1999) fitted on labelled detector output:

    P(malicious | s, group) = sigmoid(slope * u(s) + intercept + offset[group])

where ``u`` is the identity or the logit of the score (``transform``), and ``group`` (e.g.
the UEBA analytic) shifts the intercept; each offset is L2-shrunk toward 0 (the pooled
fit), so a group with few labelled findings stays close to the pooled mapping. Monotone in
the score within a group, and never decreasing: the slope is bounded at 0, because every
score here is built to grow with suspicion -- a fit that wants a negative slope says the
score does not rank this data, and then the calibration is the group's base rate. Fitting
uses Platt's prior-corrected targets
(``(n+ + 1)/(n+ + 2)`` and ``1/(n- + 2)``) instead of 0/1, which keeps the fit finite on
separable or tiny data sets -- the usual case here.

Quality is measured with leave-one-capture-out predictions (``leave_one_out``): each
capture's records are predicted by a fit on the other captures only, and the Brier score,
log loss and reliability bins are computed on those predictions (``quality``).

A fitted calibration is a small JSON file (``garrison-calibration/1``) holding the
parameters, the fingerprint of the labelled data, how it was fitted and its measured
quality; the package ships one per detector under ``detect/ml/models/``. A shipped file is
read through the registry gate (its SHA-256 must be the one ``MANIFEST.json`` lists): an
edited slope is refused, and the detector does not start, rather than quietly shifting
every confidence it reports.
"""

from __future__ import annotations

import importlib.resources
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

FORMAT = "garrison-calibration/1"
TRANSFORMS = ("identity", "logit")
#: Scores are clipped to [EPS, 1 - EPS] before a logit (tail probabilities reach 1.0).
EPS = 1e-6
#: Calibrated probabilities stay within [PMIN, 1 - PMIN]: a mapping fitted on a few hundred
#: labelled records cannot vouch for anything closer to certainty than that.
PMIN = 1e-3


@dataclass(slots=True, frozen=True)
class Labelled:
    """One labelled detector output: where it came from, its score, its group, its truth."""

    capture: str
    score: float
    label: int
    group: str = ""


def _transform(scores: NDArray[np.float64], kind: str) -> NDArray[np.float64]:
    if kind == "identity":
        return scores
    clipped = np.clip(scores, EPS, 1.0 - EPS)
    return np.log(clipped) - np.log1p(-clipped)


def _sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@dataclass(slots=True)
class Calibration:
    """A fitted score -> P(malicious) mapping (see the module docstring)."""

    name: str
    transform: str
    slope: float
    intercept: float
    offsets: dict[str, float] = field(default_factory=dict)
    #: Fingerprint, how it was fitted, counts, measured quality, warnings.
    meta: dict[str, Any] = field(default_factory=dict)

    def probabilities(
        self, scores: Sequence[float], groups: Sequence[str] | None = None
    ) -> NDArray[np.float64]:
        raw = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        u = _transform(raw, self.transform)
        offset = np.array([self.offsets.get(g, 0.0) for g in groups or [""] * len(u)])
        return np.clip(_sigmoid(self.slope * u + self.intercept + offset), PMIN, 1.0 - PMIN)

    def probability(self, score: float, group: str = "") -> float:
        return float(self.probabilities([score], [group])[0])

    def summary(self) -> dict[str, Any]:
        """What a finding quotes: which calibration, fitted on how much, how good."""
        fitted = self.meta.get("fitted_on", {})
        evaluation = self.meta.get("evaluation", {})
        loco = evaluation.get("leave_one_capture_out", {})
        return {
            "calibration": self.name,
            "method": self.meta.get("method", "Platt scaling"),
            "data_fingerprint": str(fitted.get("fingerprint_sha256", ""))[:16],
            "labelled_records": fitted.get("records"),
            "positives": fitted.get("positives"),
            "leave_one_capture_out_brier": loco.get("brier"),
            "no_skill_brier": evaluation.get("leave_one_capture_out_no_skill_brier"),
        }

    # --- persistence --------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "name": self.name,
            "transform": self.transform,
            "parameters": {
                "slope": self.slope,
                "intercept": self.intercept,
                "offsets": dict(sorted(self.offsets.items())),
            },
            **self.meta,
        }

    @classmethod
    def from_json(cls, data: Any) -> Calibration:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a Garrison calibration (format mismatch)")
        params = data.get("parameters")
        if not isinstance(params, dict) or data.get("transform") not in TRANSFORMS:
            raise ValueError("calibration: missing parameters or unknown transform")
        numbers = [params.get("slope"), params.get("intercept")]
        offsets = params.get("offsets") or {}
        if not isinstance(offsets, dict):
            raise ValueError("calibration: offsets must be a mapping")
        numbers += list(offsets.values())
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in numbers):
            raise ValueError("calibration: parameters must be finite numbers")
        meta = {
            k: v for k, v in data.items() if k not in ("format", "name", "transform", "parameters")
        }
        return cls(
            str(data.get("name", "")),
            str(data["transform"]),
            float(params["slope"]),
            float(params["intercept"]),
            {str(k): float(v) for k, v in offsets.items()},
            meta,
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_json(), indent=1, sort_keys=False) + "\n"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Calibration:
        try:
            return cls.from_bytes(path.read_bytes(), path)
        except OSError as exc:
            raise ValueError(f"cannot read calibration {path}: {exc}") from exc

    @classmethod
    def from_bytes(cls, data: bytes, path: Path) -> Calibration:
        try:
            parsed = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"cannot read calibration {path}: {exc}") from exc
        return cls.from_json(parsed)


def shipped_path(name: str) -> Path:
    """The calibration shipped with the package for detector ``name`` (beacon, ueba)."""
    root = importlib.resources.files("garrison.detect.ml")
    return Path(str(root.joinpath(f"models/{name}.calibration.json")))


@cache
def _cached(path: str) -> Calibration:
    return Calibration.load(Path(path))


@cache
def _shipped(path: str, digest: str, data: bytes) -> Calibration:
    """A shipped calibration by its checked bytes (cached per digest: a changed file is
    checked and parsed again)."""
    return Calibration.from_bytes(data, Path(path))


def load_calibration(name: str, option: str = "") -> tuple[Calibration | None, str]:
    """The calibration a detector should use, and a note when there is none.

    ``option`` is the detector option: "" for the shipped file, "none" to report raw tail
    probabilities, or a path. A missing or unreadable file given by the option never stops
    a run: the detector falls back to its raw score and says so. The shipped file goes
    through the registry gate: one that no longer has its manifest digest raises
    InputError (the detector does not start; the run says why, as for a tampered model).
    """
    if option.strip().lower() == "none":
        return None, "calibration disabled by the detector option"
    if not option:
        from garrison.govern.registry.gate import read_verified

        path = shipped_path(name)
        data, digest = read_verified(path)
        try:
            return _shipped(str(path), digest, data), ""
        except ValueError as exc:
            return None, f"uncalibrated: {exc}"
    try:
        return _cached(str(Path(option).resolve())), ""
    except ValueError as exc:
        return None, f"uncalibrated: {exc}"


# --- fitting --------------------------------------------------------------------------


def fit(
    records: Sequence[Labelled],
    name: str,
    transform: str = "identity",
    grouped: bool = False,
    shrinkage: float = 1.0,
) -> Calibration:
    """Platt scaling with optional per-group intercept offsets (L2 weight ``shrinkage``)."""
    if transform not in TRANSFORMS:
        raise ValueError(f"unknown transform {transform!r}")
    y = np.array([r.label for r in records], dtype=np.float64)
    u = _transform(np.array([r.score for r in records], dtype=np.float64), transform)
    groups = sorted({r.group for r in records}) if grouped else []
    index = {g: i for i, g in enumerate(groups)}
    member = np.zeros((len(records), len(groups)))
    for row, r in enumerate(records):
        if grouped:
            member[row, index[r.group]] = 1.0
    positives, negatives = float(y.sum()), float(len(y) - y.sum())
    target = np.where(y > 0, (positives + 1) / (positives + 2), 1 / (negatives + 2))

    def loss(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        z = theta[0] * u + theta[1] + member @ theta[2:]
        # cross-entropy against the smoothed targets, written stably
        value = float(np.sum(np.logaddexp(0.0, z) - target * z))
        residual = _sigmoid(z) - target
        grad = np.concatenate(
            [[residual @ u, residual.sum()], member.T @ residual + 2 * shrinkage * theta[2:]]
        )
        return value + shrinkage * float(theta[2:] @ theta[2:]), grad

    start = np.zeros(2 + len(groups))
    start[0] = 1.0
    if len(records):
        bounds = [(0.0, None)] + [(None, None)] * (1 + len(groups))
        result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
        theta = result.x
    else:
        theta = start
    return Calibration(
        name,
        transform,
        float(theta[0]),
        float(theta[1]),
        {g: float(theta[2 + i]) for g, i in index.items()},
    )


@dataclass(slots=True, frozen=True)
class Recipe:
    """How a detector's calibration is fitted: the same for the shipped file and for the
    leave-one-capture-out measurement, so the measured quality is that of the recipe."""

    score: str
    transform: str = "identity"
    grouped: bool = False
    shrinkage: float = 1.0

    def fit(self, records: Sequence[Labelled], name: str) -> Calibration:
        return fit(records, name, self.transform, self.grouped, self.shrinkage)

    def describe(self) -> dict[str, Any]:
        return {
            "method": "Platt scaling with Platt's prior-corrected targets"
            + (
                ", per-group intercept offsets (L2-shrunk toward the pooled fit)"
                if self.grouped
                else ""
            ),
            "score": self.score,
            "transform": self.transform,
            "grouped": self.grouped,
            "shrinkage": self.shrinkage,
        }


RECIPES: dict[str, Recipe] = {
    "beacon": Recipe(score="beacon score (0-1) of a scored (source, destination) pair"),
    "ueba": Recipe(
        score="tail confidence of a UEBA finding (1 - Poisson / Good-Turing / hour-rarity "
        "tail probability); group = analytic",
        transform="logit",
        grouped=True,
    ),
}


def leave_one_out(
    records: Sequence[Labelled], fitter: Callable[[Sequence[Labelled]], Calibration]
) -> NDArray[np.float64]:
    """Each record's probability from a fit that never saw its capture."""
    out = np.zeros(len(records))
    for capture in sorted({r.capture for r in records}):
        rest = [r for r in records if r.capture != capture]
        rows = [i for i, r in enumerate(records) if r.capture == capture]
        model = fitter(rest)
        out[rows] = model.probabilities(
            [records[i].score for i in rows], [records[i].group for i in rows]
        )
    return out


def loco_base_rate(records: Sequence[Labelled]) -> NDArray[np.float64]:
    """The no-skill reference under the same protocol: each capture's records get the
    positive rate of the other captures (smoothed like Platt's targets)."""
    out = np.zeros(len(records))
    for capture in sorted({r.capture for r in records}):
        rest = [r.label for r in records if r.capture != capture]
        rate = (sum(rest) + 1) / (len(rest) + 2)
        out[[i for i, r in enumerate(records) if r.capture == capture]] = rate
    return out


def quality(
    probs: Sequence[float] | NDArray[np.float64], labels: Sequence[int], bins: int = 10
) -> dict[str, Any]:
    """Brier score, log loss and reliability per equal-width bin of predicted probability,
    next to the Brier score of always predicting the base rate (the no-skill reference)."""
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, 1.0)
    y = np.asarray(labels, dtype=np.float64)
    if len(p) == 0:
        return {"records": 0}
    rate = float(y.mean())
    eps = 1e-12
    table = []
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.minimum((p * bins).astype(int), bins - 1)
    ece = 0.0
    for b in range(bins):
        inside = which == b
        count = int(inside.sum())
        if not count:
            continue
        mean_p, observed = float(p[inside].mean()), float(y[inside].mean())
        ece += count / len(p) * abs(mean_p - observed)
        table.append(
            {
                "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                "count": count,
                "positives": int(y[inside].sum()),
                "mean_predicted": round(mean_p, 4),
                "observed_rate": round(observed, 4),
            }
        )
    return {
        "records": len(p),
        "positives": int(y.sum()),
        "brier": round(float(np.mean((p - y) ** 2)), 5),
        "brier_base_rate": round(float(np.mean((rate - y) ** 2)), 5),
        "log_loss": round(float(-np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))), 5),
        "expected_calibration_error": round(ece, 5),
        "reliability": table,
    }


def assess(records: Sequence[Labelled], recipe: Recipe, name: str) -> dict[str, Any]:
    """The recipe's measured quality on labelled records: leave-one-capture-out (the honest
    figure), the no-skill reference under the same protocol, per held-out capture, and the
    in-sample fit (optimistic, for comparison only)."""
    labels = [r.label for r in records]
    loco = leave_one_out(records, lambda rest: recipe.fit(rest, name))
    reference = quality(loco_base_rate(records), labels)
    per_capture = {}
    for capture in sorted({r.capture for r in records}):
        rows = [i for i, r in enumerate(records) if r.capture == capture]
        entry = quality(loco[rows], [labels[i] for i in rows])
        per_capture[capture] = {
            k: entry.get(k) for k in ("records", "positives", "brier", "log_loss")
        }
    measured = quality(loco, labels)
    transfer = ""
    if measured.get("brier", 0.0) > (reference.get("brier") or 0.0):
        transfer = (
            "on held-out captures the calibrated mapping scored worse (Brier "
            f"{measured.get('brier')}) than the no-skill base rate of the other captures "
            f"({reference.get('brier')}): what it learnt does not transfer between these "
            "captures, so its probabilities are estimates pooled over them"
        )
    full = recipe.fit(records, name)
    in_sample = quality(
        full.probabilities([r.score for r in records], [r.group for r in records]), labels
    )
    return {
        "records": len(records),
        "positives": sum(labels),
        "leave_one_capture_out": measured,
        "leave_one_capture_out_no_skill_brier": reference.get("brier"),
        "transfer_note": transfer,
        "per_held_out_capture": per_capture,
        "in_sample_optimistic": {
            k: in_sample.get(k) for k in ("brier", "log_loss", "expected_calibration_error")
        },
    }


def training_summary(name: str, path: Path, calibration: Calibration) -> list[str]:
    """What ``garrison models train NAME-calibration`` prints about the file it wrote."""
    fitted = calibration.meta["fitted_on"]
    quality = calibration.meta["evaluation"]
    loco = quality["leave_one_capture_out"]
    return [
        f"{name}: {fitted['records']} labelled records, {fitted['positives']} positives; "
        f"slope {calibration.slope:.3f}, intercept {calibration.intercept:.3f}; "
        f"leave-one-capture-out Brier {loco['brier']} (no-skill "
        f"{quality['leave_one_capture_out_no_skill_brier']}) -> {path}"
    ]
