"""``ml.anomaly``: the entity-hours that stand out from the rest of the run.

``observe`` folds events into per-entity, per-hour vectors (``features``); ``finish`` fits
the configured estimator (IsolationForest by default, HalfSpaceTrees with
``estimator = "hst"``) on all of them, scores them, and reports the outliers: vectors
whose score is at least ``min_z`` robust standard deviations above the median score, at
most ``max_findings``, strongest first, one per entity (its strongest hour; the count of
its other outlier hours in the explanation). Each finding names the entity and hour, the top
contributing features (occlusion, see ``explain``) with the observed value against the
entity's own median over its other hours (or the population's when it has fewer than
three), the model version and a confidence: the share of the run's entity-hours that
score lower. Runs with fewer than ``min_vectors`` entity-hours report nothing (there is no
"normal" to stand out from), which ``stats`` says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from garrison.core.attack import attack_of
from garrison.core.entities import normalize_entity
from garrison.core.events import Event
from garrison.core.findings import SEVERITY_LOW, SEVERITY_MEDIUM, Attack, Finding
from garrison.core.options import option
from garrison.core.timeutil import iso
from garrison.detect.base import Detector, DetectorContext
from garrison.detect.ml.anomaly.estimators import ESTIMATORS, make
from garrison.detect.ml.anomaly.explain import occlusion, robust_z
from garrison.detect.ml.anomaly.features import FEATURES, HOUR_MS, VectorTable, transform
from garrison.detect.options import options_of

#: ATT&CK hints when one feature carries the anomaly (shown, not asserted).
_HINTS = {
    "auth_failure": "T1110",
    "distinct_dst_ports": "T1046",
    "distinct_dst_ips": "T1046",
    "bytes_out": "T1048",
    "nxdomain": "T1568.002",
    "distinct_users": "T1078",
}


@dataclass(slots=True)
class AnomalyConfig:
    """Options (``[detectors."ml.anomaly"]`` in garrison.toml)."""

    estimator: str = option("iforest", choices=sorted(ESTIMATORS))
    seed: int = 0
    min_vectors: int = 24
    min_z: float = 4.0
    #: Scores closer together than this are not told apart (both estimators score in
    #: [0, 1]); keeps near-identical hours from looking many "standard deviations" apart.
    min_spread: float = 0.05
    #: At least one top feature must be this many times above (or below) its baseline.
    min_fold: float = 2.0
    max_findings: int = 10
    top_features: int = 5
    max_vectors: int = 100_000


class AnomalyDetector(Detector):
    id = "ml.anomaly"
    name = "Entity-hour anomaly (unsupervised)"

    def __init__(self, config: AnomalyConfig | None = None) -> None:
        self.config = config or AnomalyConfig()
        make(self.config.estimator)  # fail at start, not at the end, on a bad name
        self.table = VectorTable(self.config.max_vectors)
        self.note = ""
        self.scored = 0
        self.invisible = 0

    def observe(self, events: Sequence[Event]) -> list[Finding]:
        for event in events:
            try:
                self.table.add(event)
            except Exception:  # one hostile record must not stop the run
                self.table.skipped += 1
        return []

    def finish(self) -> list[Finding]:
        keys = list(self.table.vectors)
        if len(keys) < self.config.min_vectors:
            self.note = (
                f"{len(keys)} entity-hours, fewer than {self.config.min_vectors}: "
                "nothing to compare with"
            )
            return []
        raws = [self.table.vectors[k].raw() for k in keys]
        X = np.asarray([transform(r) for r in raws])
        estimator = make(self.config.estimator, self.config.seed).fit(X)
        scores = estimator.score(X)
        self.scored = len(keys)
        z = robust_z(scores, self.config.min_spread)
        order = np.argsort(-scores, kind="stable")
        medians = np.median(X, axis=0)
        by_entity: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, (kind, name, _) in enumerate(keys):
            by_entity[(kind, name)].append(i)
        findings: list[Finding] = []
        reported: dict[tuple[str, str], Finding] = {}
        for i in order:
            if z[i] < self.config.min_z:
                break
            entity_key = keys[i][:2]
            if entity_key in reported:  # one finding per entity, its strongest hour
                extra = reported[entity_key].explanation
                extra["other_outlier_hours"] = extra.get("other_outlier_hours", 0) + 1
                continue
            if len(findings) >= self.config.max_findings:
                continue
            contrib = occlusion(estimator, X[i], medians, FEATURES)
            own = _own_median(i, by_entity[keys[i][:2]], raws)
            baseline = own or {
                f: float(np.expm1(m)) for f, m in zip(FEATURES, medians, strict=True)
            }
            top = [(f, c) for f, c in contrib if c > 0][: self.config.top_features]
            if not any(
                _visible(raws[i].get(f, 0.0), baseline.get(f, 0.0), self.config.min_fold)
                for f, _ in top
            ):
                self.invisible += 1  # the model's quirk, not something an analyst can see
                continue
            rank = float(np.mean(scores < scores[i]))
            findings.append(
                self._finding(
                    keys[i],
                    raws[i],
                    own is not None,
                    baseline,
                    float(scores[i]),
                    float(z[i]),
                    rank,
                    top,
                    estimator.version,
                    len(raws),
                )
            )
            reported[entity_key] = findings[-1]
        return findings

    def _finding(
        self,
        key: tuple[str, str, int],
        raw: dict[str, float],
        own: bool,
        baseline: dict[str, float],
        score: float,
        z: float,
        rank: float,
        top: list[tuple[str, float]],
        version: str,
        scored: int,
    ) -> Finding:
        kind, name, hour = key
        described = [
            {
                "feature": f,
                "weight": c,
                "observed": raw.get(f, 0.0),
                "baseline": round(baseline.get(f, 0.0), 2),
            }
            for f, c in top
        ]
        text = "; ".join(
            f"{d['feature']} {d['observed']:.0f} vs {d['baseline']:.0f}" for d in described[:3]
        )
        attacks: list[Attack] = []
        hint = next((f for f, _ in top[:3] if f in _HINTS), None)
        if hint:
            attacks.append(attack_of(_HINTS[hint]))
        entity = normalize_entity("host" if kind == "host" else "ip", name)
        vec = self.table.vectors[key]
        return Finding(
            analytic_uid=self.id,
            analytic_name=self.name,
            title=f"Unusual activity for {kind} {name} at {iso(hour * HOUR_MS)[:13]}h: {text}",
            time=vec.evidence[0].time if vec.evidence else hour * HOUR_MS,
            severity_id=SEVERITY_MEDIUM if z >= 2 * self.config.min_z else SEVERITY_LOW,
            confidence=round(100 * rank),
            evidences=list(vec.evidence),
            attacks=attacks,
            entities=[entity] if entity else [],
            analytic_type="ml",
            description=f"anomaly score {score:.3f} ({z:.1f} robust sd above the median)",
            explanation={
                "observed": text,
                "baseline": "entity's own median hour" if own else "median entity-hour of this run",
                "top_features": described,
                "score": round(score, 4),
                "robust_z": round(z, 2),
                "entity_hours_scored": scored,
                "hour": iso(hour * HOUR_MS),
                "model_version": version,
                "attack_hint_basis": "technique suggested by the top feature, not proven",
                "confidence_basis": "share of this run's entity-hours scoring lower",
            },
            model_version=version,
        )

    def stats(self) -> dict[str, Any]:
        return {
            "entity_hours": len(self.table.vectors),
            "scored": self.scored,
            "outliers_without_visible_change": self.invisible,
            "evicted": self.table.evicted,
            "skipped_events": self.table.skipped,
            "note": self.note,
        }


def _visible(observed: float, baseline: float, fold: float) -> bool:
    """Whether a count at least ``fold`` times above or below its baseline (+1 smoothed)."""
    ratio = (max(observed, 0.0) + 1.0) / (max(baseline, 0.0) + 1.0)
    return ratio >= fold or ratio <= 1.0 / fold


def _own_median(
    i: int, same_entity: list[int], raws: list[dict[str, float]]
) -> dict[str, float] | None:
    """The entity's median over its *other* hours, when it has at least three."""
    others = [raws[j] for j in same_entity if j != i]
    if len(others) < 3:
        return None
    return {f: float(np.median([o[f] for o in others])) for f in FEATURES}


def build(ctx: DetectorContext) -> AnomalyDetector:
    return AnomalyDetector(options_of(ctx, AnomalyConfig))
