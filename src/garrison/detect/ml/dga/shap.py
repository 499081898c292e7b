"""Exact path-dependent TreeSHAP for scikit-learn's ``HistGradientBoostingClassifier``.

Why not the ``shap`` package: it supports this estimator and agrees with this module to
~1e-12 (a test checks it when ``shap`` is installed), but it pulls numba and llvmlite
(~210 MB, ~1.8 s to import) into a CLI that only needs to explain a handful of flagged
domains, and its compiled explainer is no faster here (~1,200 rows/s on the shipped model).

What is computed (Lundberg, Erion and Lee 2018, "Consistent individualized feature
attribution for tree ensembles", algorithm 2): the Shapley values of the game
``f(S) = E[tree(x) | x_S]`` where features outside ``S`` are integrated out by following
both children in proportion to the training samples that went each way (node ``count``).
For one leaf, with ``F`` the distinct features split on along its path, ``z_j`` the product
of the cover fractions of the path's splits on feature ``j`` and ``o_j`` = 1 if the row goes
the path's way at every split on ``j`` (else 0), the leaf's share of ``f(S)`` is
``v * prod_{j in S} o_j * prod_{j in F \\ S} z_j``. Its Shapley value for ``k`` in ``F`` is

    v * (o_k - z_k) * sum_s w(s, |F|) * [t^s] prod_{j in F, j != k} (o_j t + z_j),
    w(s, d) = s! (d - s - 1)! / d!,

the same quantity algorithm 2 gets with its EXTEND / UNWIND path weights: the polynomial is
built once per leaf and each factor divided out again. Features not on the path are null
players and get nothing. Shapley values add over leaves and trees, so per row

    sum_k phi_k + expected_value == the model's raw log-odds (``_raw_predict``).

Speed: a leaf's values depend on the row only through the bit pattern ``o`` (at most
``2**|F|`` values), and a batch of domains repeats patterns heavily, so the values are
computed once per distinct (leaf, pattern) in a batch and gathered. Nothing here runs
when scoring; only rows that are explained pay for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

F64 = NDArray[np.float64]
#: Rows per block: bounds the (rows x path steps) arrays.
BLOCK = 512


@dataclass(slots=True)
class _Group:
    """All leaves (of all trees) whose path splits on exactly ``d`` distinct features."""

    d: int
    value: F64  # (g,) leaf values
    zero: F64  # (g, d) cover fraction of each path slot
    #: Every split on every path: its internal-node index and whether the path goes left.
    step_node: NDArray[np.int64]
    step_left: NDArray[np.bool_]
    #: (d * g, steps) 0/1: which splits belong to each (slot, leaf); times the disagreement
    #: matrix it counts, per row, the splits where the row leaves the path.
    slot_steps: sparse.csr_matrix
    #: (features present, d * g) 0/1: which (slot, leaf) values add up into each feature.
    feature_slots: sparse.csr_matrix
    feature_ids: NDArray[np.int64]


def shapley_weights(d: int) -> F64:
    """``w(s, d) = s! (d - s - 1)! / d!`` for ``s = 0 .. d - 1``."""
    return np.array(
        [math.factorial(s) * math.factorial(d - s - 1) / math.factorial(d) for s in range(d)],
        dtype=np.float64,
    )


def leaf_shap(one: NDArray[np.bool_], zero: F64, value: F64) -> F64:
    """Shapley values of single-leaf games: ``one``, ``zero`` (m, d), ``value`` (m,).

    Returns (m, d): each slot's value (see the module docstring for the formula).
    """
    m, d = zero.shape
    o = one.astype(np.float64)
    # prod_j (o_j t + z_j), coefficients of t^0 .. t^d
    poly = np.zeros((m, d + 1), dtype=np.float64)
    poly[:, 0] = 1.0
    for j in range(d):
        shifted = poly[:, :-1] * o[:, j : j + 1]
        poly *= zero[:, j : j + 1]
        poly[:, 1:] += shifted
    # divide factor k back out, for every k at once: q has shape (m, d_k, d_s)
    z = zero[:, :, None]
    q_zero = poly[:, None, :d] / z  # o_k == 0: the factor is the constant z_k
    q_one = np.empty((m, d, d), dtype=np.float64)  # o_k == 1: synthetic division by t + z_k
    q_one[:, :, d - 1] = poly[:, None, d]
    for s in range(d - 1, 0, -1):
        q_one[:, :, s - 1] = poly[:, None, s] - zero * q_one[:, :, s]
    q = np.where(one[:, :, None], q_one, q_zero)
    total = q @ shapley_weights(d)
    return value[:, None] * (o - zero) * total


class TreeShap:
    """Exact TreeSHAP values (log-odds) for a fitted binary ``HistGradientBoostingClassifier``.

    ``expected_value`` is the baseline plus every tree's cover-weighted mean leaf value;
    ``shap_values(x)`` gives (rows, features) contributions that add up, with it, to the
    model's raw output for each row.
    """

    def __init__(self, gbm: Any) -> None:
        predictors = gbm._predictors
        if any(len(per_iter) != 1 for per_iter in predictors):
            raise ValueError("TreeShap: only binary classifiers / regressors are supported")
        self.n_features = int(gbm.n_features_in_)
        baseline = np.asarray(gbm._baseline_prediction, dtype=np.float64).reshape(-1)
        self.expected_value = float(baseline[0])
        self.features: list[int] = []
        self.thresholds: list[float] = []
        self.missing_left: list[bool] = []
        leaves: dict[int, list[tuple[float, list[int], list[float], list[list[tuple[int, bool]]]]]]
        leaves = {}
        for (predictor,) in predictors:
            self.expected_value += self._add_tree(predictor.nodes, leaves)
        self.groups = [self._group(d, rows) for d, rows in sorted(leaves.items()) if d > 0]

    # --- construction -------------------------------------------------------------------

    def _add_tree(self, nodes: Any, leaves: dict[int, list[Any]]) -> float:
        """Record the tree's leaves by path; return its cover-weighted mean leaf value."""
        if nodes["is_categorical"].any():
            raise ValueError("TreeShap: categorical splits are not supported")
        cover = _covers(nodes)
        offset = len(self.features)
        internal: dict[int, int] = {}
        for idx in np.flatnonzero(nodes["is_leaf"] == 0).tolist():
            internal[idx] = offset + len(internal)
            self.features.append(int(nodes[idx]["feature_idx"]))
            self.thresholds.append(float(nodes[idx]["num_threshold"]))
            self.missing_left.append(bool(nodes[idx]["missing_go_to_left"]))
        mean = 0.0
        # (node, feature order, zero fraction per feature, splits per feature)
        stack: list[tuple[int, list[int], list[float], list[list[tuple[int, bool]]]]] = [
            (0, [], [], [])
        ]
        while stack:
            idx, feats, zeros, splits = stack.pop()
            node = nodes[idx]
            if node["is_leaf"]:
                value = float(node["value"])
                mean += value * cover[idx] / cover[0]
                leaves.setdefault(len(feats), []).append((value, feats, zeros, splits))
                continue
            feature = int(node["feature_idx"])
            for child, left in ((int(node["left"]), True), (int(node["right"]), False)):
                ratio = cover[child] / cover[idx]
                f2, z2, s2 = list(feats), list(zeros), [list(s) for s in splits]
                if feature in f2:
                    slot = f2.index(feature)
                    z2[slot] *= ratio
                    s2[slot].append((internal[idx], left))
                else:
                    f2.append(feature)
                    z2.append(ratio)
                    s2.append([(internal[idx], left)])
                stack.append((child, f2, z2, s2))
        return mean

    def _group(self, d: int, rows: list[Any]) -> _Group:
        g = len(rows)
        step_node: list[int] = []
        step_left: list[bool] = []
        step_slot: list[int] = []
        for i, (_, _, _, splits) in enumerate(rows):
            for slot, steps in enumerate(splits):
                step_node.extend(node for node, _ in steps)
                step_left.extend(left for _, left in steps)
                step_slot.extend([slot * g + i] * len(steps))
        features = np.array([f for _, f, _, _ in rows], dtype=np.int64).T.reshape(-1)
        ids, row_of = np.unique(features, return_inverse=True)
        n_steps = len(step_node)
        return _Group(
            d=d,
            value=np.array([v for v, _, _, _ in rows], dtype=np.float64),
            zero=np.array([z for _, _, z, _ in rows], dtype=np.float64).reshape(g, d),
            step_node=np.array(step_node, dtype=np.int64),
            step_left=np.array(step_left, dtype=np.bool_),
            slot_steps=sparse.csr_matrix(
                (np.ones(n_steps, dtype=np.float32), (step_slot, np.arange(n_steps))),
                shape=(d * g, n_steps),
            ),
            feature_slots=sparse.csr_matrix(
                (np.ones(g * d), (row_of.reshape(-1), np.arange(d * g))), shape=(len(ids), d * g)
            ),
            feature_ids=ids.astype(np.int64),
        )

    # --- evaluation ---------------------------------------------------------------------

    def decisions(self, x: NDArray[Any]) -> NDArray[np.bool_]:
        """(internal nodes, rows): does the row go left at each split of every tree.

        Nodes run along the first axis so that the per-path gathers and reductions below
        copy and reduce whole contiguous rows.
        """
        data = np.asarray(x, dtype=np.float64)
        values = data.T[np.asarray(self.features, dtype=np.int64)]
        with np.errstate(invalid="ignore"):
            return np.where(
                np.isnan(values),
                np.asarray(self.missing_left, dtype=np.bool_)[:, None],
                values <= np.asarray(self.thresholds, dtype=np.float64)[:, None],
            )

    def shap_values(self, x: NDArray[Any]) -> F64:
        """(rows, features) exact TreeSHAP contributions in the model's raw (log-odds) units."""
        data = np.asarray(x)
        if data.ndim != 2 or data.shape[1] != self.n_features:
            raise ValueError(f"TreeShap: expected (rows, {self.n_features}) features")
        out = np.zeros((self.n_features, len(data)), dtype=np.float64)
        for start in range(0, len(data), BLOCK):
            block = data[start : start + BLOCK]
            left = self.decisions(block)
            cols = out[:, start : start + len(block)]
            for group in self.groups:
                cols[group.feature_ids] += self._group_values(group, left)
        return np.ascontiguousarray(out.T)

    @staticmethod
    def _group_values(group: _Group, left: NDArray[np.bool_]) -> F64:
        """(features present in the group, rows): the group's leaves' summed values."""
        n, g, d = left.shape[1], len(group.value), group.d
        disagree = (left[group.step_node] != group.step_left[:, None]).astype(np.float32)
        one = np.asarray(group.slot_steps @ disagree).reshape(d, g, n) == 0
        code = np.zeros((g, n), dtype=np.int64)
        for slot in range(d):
            code |= one[slot].astype(np.int64) << slot
        code += np.arange(g, dtype=np.int64)[:, None] << d  # key: (leaf, pattern)
        unique, inverse = _distinct(code.reshape(-1), g << d)
        bits = ((unique[:, None] >> np.arange(d, dtype=np.int64)) & 1).astype(np.bool_)
        leaf = unique >> d
        values = leaf_shap(bits, group.zero[leaf], group.value[leaf])  # (u, d)
        per_slot = np.take(np.ascontiguousarray(values.T), inverse, axis=1).reshape(d * g, n)
        return np.asarray(group.feature_slots @ per_slot)


def _distinct(keys: NDArray[np.int64], space: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Sorted distinct keys and each key's index among them; a dense mark table when the
    key space is small (no sort), ``np.unique`` otherwise."""
    if space <= 1 << 24:
        seen = np.zeros(space, dtype=np.bool_)
        seen[keys] = True
        position = np.cumsum(seen, dtype=np.int64) - 1
        return np.flatnonzero(seen).astype(np.int64), position[keys]
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique.astype(np.int64), inverse.reshape(-1).astype(np.int64)


def _covers(nodes: Any) -> F64:
    """Training samples through each node, summed up from the leaves (so a parent's cover
    is exactly its children's, whatever rounding the stored counts carry)."""
    cover = np.zeros(len(nodes), dtype=np.float64)
    order: list[int] = []
    stack = [0]
    while stack:
        idx = stack.pop()
        order.append(idx)
        if not nodes[idx]["is_leaf"]:
            stack.extend((int(nodes[idx]["left"]), int(nodes[idx]["right"])))
    for idx in reversed(order):
        node = nodes[idx]
        if node["is_leaf"]:
            cover[idx] = max(float(node["count"]), 1e-12)
        else:
            cover[idx] = cover[int(node["left"])] + cover[int(node["right"])]
    return cover
