"""The compact profile of an approved training set, and drift of a new set against it.

A profile keeps, per feature, the approved set's quantile bin edges and bin shares (for
PSI), its deciles (for people), and a seeded sample of feature rows (for KS and the
classifier two-sample test). Only derived numbers are kept, never the records themselves:
the profile sits beside a model card and may be shared as freely as the card.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from garrison.govern.data.drift import (
    DriftReport,
    DriftThresholds,
    FeatureDrift,
    bin_shares,
    ks_statistic,
    psi_from_shares,
    quantile_edges,
    two_sample_auc,
)

F64 = NDArray[np.float64]
FORMAT = "garrison-training-profile/1"


class ProfileError(ValueError):
    """A profile that cannot be read or does not describe these features."""


@dataclass(frozen=True, slots=True)
class Profile:
    features: tuple[str, ...]
    edges: tuple[tuple[float, ...], ...]
    shares: tuple[tuple[float, ...], ...]
    deciles: tuple[tuple[float, ...], ...]
    sample: F64
    rows: int
    meta: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "rows": self.rows,
            "meta": self.meta,
            "features": {
                f: {"edges": list(e), "shares": list(s), "deciles": list(d)}
                for f, e, s, d in zip(
                    self.features, self.edges, self.shares, self.deciles, strict=True
                )
            },
            "sample": [[_num(v) for v in row] for row in self.sample.tolist()],
        }

    @classmethod
    def from_json(cls, data: Any) -> Profile:
        try:
            if data.get("format") != FORMAT:
                raise ProfileError(f"not a training profile (format {data.get('format')!r})")
            feats = data["features"]
            names = tuple(str(f) for f in feats)
            sample = np.array(
                [[np.nan if v is None else float(v) for v in row] for row in data["sample"]],
                dtype=np.float64,
            ).reshape(-1, len(names))
            return cls(
                names,
                tuple(tuple(float(v) for v in feats[f]["edges"]) for f in names),
                tuple(tuple(float(v) for v in feats[f]["shares"]) for f in names),
                tuple(tuple(float(v) for v in feats[f]["deciles"]) for f in names),
                sample,
                int(data["rows"]),
                dict(data.get("meta", {})),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ProfileError(f"unreadable training profile: {exc}") from exc


#: Decimals kept in the sample; the new set is rounded alike before it is compared, or the
#: two-sample classifier would learn the rounding (AUC 1.0 on identical sets).
DECIMALS = 6


def _num(v: float) -> float | None:
    return None if np.isnan(v) else float(v)


def build_profile(
    x: F64,
    features: Sequence[str],
    meta: dict[str, Any] | None = None,
    sample_rows: int = 2000,
    bins: int = 10,
    seed: int = 0,
) -> Profile:
    """The profile of the rows of ``x`` (one column per name in ``features``)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(features):
        raise ProfileError(f"{x.shape} rows for {len(features)} features")
    edges, shares, deciles = [], [], []
    for j in range(x.shape[1]):
        col = x[:, j]
        e = quantile_edges(col, bins)
        edges.append(tuple(float(v) for v in e))
        shares.append(tuple(float(v) for v in bin_shares(col, e)))
        finite = col[~np.isnan(col)]
        d = np.quantile(finite, np.linspace(0, 1, 11)) if finite.size else np.zeros(0)
        deciles.append(tuple(float(v) for v in d))
    rng = np.random.default_rng(seed)
    take = (
        rng.choice(len(x), min(sample_rows, len(x)), replace=False)
        if len(x)
        else np.zeros(0, dtype=np.int64)
    )
    return Profile(
        tuple(features),
        tuple(edges),
        tuple(shares),
        tuple(deciles),
        np.round(x[np.sort(np.asarray(take, dtype=np.int64))], DECIMALS),
        len(x),
        dict(meta or {}),
    )


def compare(
    approved: Profile,
    x: F64,
    features: Sequence[str],
    thresholds: DriftThresholds | None = None,
    seed: int = 0,
) -> DriftReport:
    """PSI and KS per feature, and the two-sample AUC, of ``x`` against ``approved``."""
    if tuple(features) != approved.features:
        raise ProfileError(
            "the approved profile describes other features "
            f"({len(approved.features)} against {len(features)}): retrain the approved model "
            "with this version first"
        )
    x = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    mine = np.round(
        x[rng.choice(len(x), min(len(x), max(len(approved.sample), 1)), replace=False)], DECIMALS
    )
    out = []
    for j, name in enumerate(features):
        edges = np.asarray(approved.edges[j])
        psi = psi_from_shares(np.asarray(approved.shares[j]), bin_shares(x[:, j], edges))
        ks = ks_statistic(approved.sample[:, j], mine[:, j])
        out.append(FeatureDrift(name, round(psi, 4), round(ks, 4)))
    auc = two_sample_auc(
        np.nan_to_num(approved.sample, nan=-1.0), np.nan_to_num(mine, nan=-1.0), seed
    )
    return DriftReport(tuple(out), round(auc, 4), thresholds or DriftThresholds())
