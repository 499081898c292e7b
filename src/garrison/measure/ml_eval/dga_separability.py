"""How distinguishable two sets of names are, for an evaluation that cannot cheat by accident.

Leave-family-out is only honest if "the family" is the generator, not the file name: two
lists made by the same algorithm (in this corpus ``zeus`` and ``new_goz`` are
indistinguishable) must be held out together, or the held-out one is scored by a model
that trained on its twin. Likewise the synthetic generators in ``data`` were chosen by
people who had seen the families; the "leave-generator-out" evaluation removes, for each
held-out family, the generator that looks most like it.

Both questions get the same measured answer: the ROC-AUC with which a character 1-3-gram
logistic model, fitted on one half of two samples, tells them apart on the other half.
0.5 means the same generator; ~1.0 means clearly different. Nothing here is tuned on the
held-out family's *scores*; its names are only used to decide what to leave *out*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.metrics import roc_auc_score

from garrison.detect.ml.dga.encoding import encode
from garrison.detect.ml.dga.linear import LinearNgram

#: Two families whose names a char n-gram model separates with AUC below this are treated
#: as one generator (held out together).
SAME_GENERATOR_AUC = 0.75


def separability(a: Sequence[str], b: Sequence[str], seed: int = 0, n: int = 1500) -> float:
    """Held-out ROC-AUC of a char 1-3-gram logistic model telling ``a`` from ``b``."""
    rng = np.random.default_rng(seed)
    a_s = [a[int(i)] for i in rng.permutation(len(a))[:n]]
    b_s = [b[int(i)] for i in rng.permutation(len(b))[:n]]
    if len(a_s) < 4 or len(b_s) < 4:
        return 1.0
    names = a_s + b_s
    y = np.r_[np.ones(len(a_s), dtype=np.int64), np.zeros(len(b_s), dtype=np.int64)]
    half = rng.permutation(len(names))
    fit, test = half[: len(half) // 2], half[len(half) // 2 :]
    if len(set(y[fit].tolist())) < 2 or len(set(y[test].tolist())) < 2:
        return 1.0
    codes, lengths = encode(names)
    model = LinearNgram.fit(
        codes[fit], lengths[fit], y[fit], np.ones(len(fit)), 16, (1, 3), 1.0, seed
    )
    scores = model.logit(codes[test], lengths[test])
    return float(roc_auc_score(y[test], scores))


def generator_groups(
    families: Mapping[str, Sequence[str]], threshold: float = SAME_GENERATOR_AUC, seed: int = 0
) -> tuple[list[tuple[str, ...]], dict[str, dict[str, float]]]:
    """Families grouped by "same generator" (pairwise separability below ``threshold``,
    closed transitively), and the pairwise matrix."""
    names = sorted(families)
    parent = {f: f for f in names}

    def root(f: str) -> str:
        while parent[f] != f:
            f = parent[f]
        return f

    matrix: dict[str, dict[str, float]] = {f: {} for f in names}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            auc = round(separability(families[a], families[b], seed), 4)
            matrix[a][b] = matrix[b][a] = auc
            if auc < threshold:
                parent[root(b)] = root(a)
    groups: dict[str, list[str]] = {}
    for f in names:
        groups.setdefault(root(f), []).append(f)
    return sorted(tuple(g) for g in groups.values()), matrix


def closest_generator(
    family: Sequence[str], generators: Mapping[str, Sequence[str]], seed: int = 0
) -> tuple[str, dict[str, float]]:
    """The generator whose names are hardest to tell from ``family``'s, and every AUC."""
    aucs = {k: round(separability(family, v, seed), 4) for k, v in sorted(generators.items())}
    return min(aucs, key=lambda k: aucs[k]), aucs
