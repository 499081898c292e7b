"""Incident embeddings: hashed features of *what kind of* incident it is, not of whom.

Similar incidents share techniques, tactics, detectors and the kinds of entities involved;
the host and user names are left out on purpose (a repeat of the same attack on another
host is the similar incident an analyst wants to see). Features are hashed into ``DIM``
signed buckets (the hashing trick, with a stable hash: no model, no network), weighted by
group and by the square root of their count, and L2-normalised so cosine similarity is a
dot product.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt

from garrison.core.incidents import Incident

DIM = 256
WEIGHTS = {
    "technique": 1.0,
    "technique_parent": 0.5,
    "tactic": 0.7,
    "analytic": 0.8,
    "detector": 0.4,
    "entity_kind": 0.3,
    "severity": 0.2,
    "size": 0.2,
    "criticality": 0.2,
}


def features(incident: Incident) -> Counter[str]:
    feats: Counter[str] = Counter()
    for t in incident.techniques:
        feats[f"technique:{t}"] += 1
        if "." in t:
            feats[f"technique_parent:{t.split('.')[0]}"] += 1
    for tactic in incident.tactics:
        feats[f"tactic:{tactic.lower()}"] += 1
    for entry in incident.timeline:
        analytic = str(entry.get("analytic_uid", ""))
        if analytic:
            feats[f"analytic:{analytic}"] += 1
            feats[f"detector:{analytic.split(':')[0].split('.')[0]}"] += 1
    for e in incident.entities:
        feats[f"entity_kind:{e.kind}"] += 1
    feats[f"severity:{incident.severity_id}"] += 1
    feats[f"size:{int(math.log2(max(1, len(incident.finding_uids))))}"] += 1
    feats[f"criticality:{incident.enrichment.get('criticality', 'unknown')}"] += 1
    return feats


def _bucket(token: str) -> tuple[int, float]:
    digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % DIM, 1.0 if (value >> 63) & 1 else -1.0


def embed_features(feats: Counter[str]) -> npt.NDArray[np.float32]:
    vec = np.zeros(DIM, dtype=np.float32)
    for token, count in feats.items():
        group = token.split(":", 1)[0]
        idx, sign = _bucket(token)
        vec[idx] += sign * WEIGHTS.get(group, 0.1) * math.sqrt(count)
    norm = float(np.linalg.norm(vec))
    if norm > 0:
        vec /= norm
    return vec


def embed(incident: Incident) -> npt.NDArray[np.float32]:
    return embed_features(features(incident))


def describe(feats: Counter[str], top: int = 8) -> list[dict[str, Any]]:
    """The strongest features, for showing why two incidents look alike."""
    ranked = sorted(feats.items(), key=lambda kv: -WEIGHTS.get(kv[0].split(":", 1)[0], 0.1) * kv[1])
    return [{"feature": k, "count": v} for k, v in ranked[:top]]
