"""The space evasion attacks work in: a model's numeric features, scaled, masked, anchored.

Garrison's text models score strings through a numeric feature vector. An evasion attack
here perturbs that vector, not the string, and only where the attacker has a say:

- ``controlled`` marks the features the attacker controls (a DGA author the name, not the
  resolver; a phishing author the path, query and subdomain, not the registered domain).
  Each point also keeps its undefined (NaN) features as they are: a feature that does not
  apply to a name (no word pairs) is not something to nudge by 0.01.
- Features are scaled to [0, 1] by the range seen in the target's training data, so one
  L2 or L-inf figure means the same on every feature, and ART's ``clip_values`` hold.
- ``AnchoredModel`` is the black box an attack sees for one point: it takes the scaled
  vector, puts back every feature the attacker does not control from the point itself
  (whatever the attack did to them), asks the model, and counts the rows it was asked
  about. So the mask holds for every attack, with or without ART's own ``mask``.
- ``Side`` is one version of the model (undefended, defended): a decision margin over raw
  features (>= 0 means "malicious", i.e. the model's verdict at its threshold).
- ``realise`` checks that an adversarial vector could come from a real input (integer
  counts, ratios on the length's grid, features bounded by others); each target says
  what it does and does not check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
Bools = NDArray[np.bool_]
Margin = Callable[[F64], F64]
TEMPERATURE = 4.0


@dataclass(slots=True)
class Side:
    """One version of the attacked model."""

    name: str
    #: Raw feature rows -> decision margin (>= 0: flagged malicious).
    margin: Margin
    #: Clean figures on the target's test split (accuracy at its threshold, AUC...).
    clean: dict[str, float] = field(default_factory=dict)

    def flags(self, x: F64) -> Bools:
        return np.asarray(self.margin(x) >= 0, dtype=bool)


def clean_figures(margin: F64, y: NDArray[np.int64]) -> dict[str, float]:
    """A side's clean figures on labelled test rows, from its decision margins."""
    from sklearn.metrics import roc_auc_score

    flagged = margin >= 0
    return {
        "accuracy": round(float((flagged == (y == 1)).mean()), 4),
        "auc": round(float(roc_auc_score(y, margin)), 4),
        "tpr": round(float(flagged[y == 1].mean()), 4),
        "fpr": round(float(flagged[y == 0].mean()), 4),
        "test_rows": len(y),
    }


@dataclass(slots=True)
class EvasionSetup:
    """Everything an evasion attack needs, for one model (see the module docstring)."""

    features: tuple[str, ...]
    controlled: Bools
    lo: F64
    hi: F64
    undefended: Side
    defended: Side
    #: Raw feature rows of the malicious points attacked (flagged by both sides).
    points: F64
    #: Raw rows the attacker may query to fit a surrogate (its own data, both classes).
    pool: F64
    #: (raw original rows, raw adversarial rows) -> projected adversarial rows (integer
    #: counts etc.) and whether each could come from a real input.
    realise: Callable[[F64, F64], tuple[F64, Bools]]
    notes: list[str] = field(default_factory=list)

    @property
    def span(self) -> F64:
        return np.where(self.hi > self.lo, self.hi - self.lo, 1.0)

    def scale(self, x: F64) -> F64:
        return np.clip((x - self.lo) / self.span, 0.0, 1.0)

    def unscale(self, u: F64) -> F64:
        return self.lo + np.clip(u, 0.0, 1.0) * self.span

    def point_mask(self, anchor: F64) -> Bools:
        """Features the attack may change for this point: controlled and defined."""
        return self.controlled & ~np.isnan(anchor)

    def side(self, name: str) -> Side:
        return self.undefended if name == "undefended" else self.defended


class AnchoredModel:
    """The black box for one point: scaled rows in, class scores out, queries counted."""

    def __init__(self, setup: EvasionSetup, side: Side) -> None:
        self.setup = setup
        self.side = side
        self.queries = 0
        self.anchor = np.zeros(len(setup.features))
        self.free = np.ones(len(setup.features), dtype=bool)

    def at(self, anchor: F64) -> F64:
        """Anchor on a raw point; returns its scaled vector (NaN features as 0)."""
        self.anchor = anchor
        self.free = self.setup.point_mask(anchor)
        return np.nan_to_num(self.setup.scale(anchor), nan=0.0)

    def raw(self, u: F64) -> F64:
        """Scaled rows -> raw rows, with every feature the attacker may not change put back."""
        x = self.setup.unscale(np.atleast_2d(u))
        x[:, ~self.free] = self.anchor[~self.free]
        return x

    def scores(self, u: F64) -> F64:
        """(rows, 2) scores [benign, malicious] whose argmax is the model's verdict."""
        x = self.raw(u)
        self.queries += len(x)
        # a soft sigmoid: score-based attacks (ZOO) need a slope, and tree logits of
        # +-10 would saturate a plain one
        margin = np.clip(self.side.margin(x) / TEMPERATURE, -30.0, 30.0)
        q = 1.0 / (1.0 + np.exp(-margin))
        return np.stack([1.0 - q, q], axis=1).astype(np.float32)


def perturbation(setup: EvasionSetup, x: F64, x_adv: F64) -> tuple[F64, F64]:
    """Per-row L2 and L-inf of the change in scaled units, over the controlled features."""
    d = np.nan_to_num(setup.scale(x_adv) - setup.scale(x), nan=0.0)
    d[:, ~setup.controlled] = 0.0
    return np.linalg.norm(d, axis=1), np.abs(d).max(axis=1)
