"""A hashed character n-gram logistic model: the text half of the DGA classifier.

Each label is the bag of its n-grams over ``^label$``, every n-gram weighted 1/(number of
n-grams), so the logit is the mean weight of the label's n-grams plus a bias: a gather and a
sum at scoring time, and an exact per-n-gram contribution for explanations. Alone this
model fits the families it saw (it is the floor in FIELD-NOTES); the gradient-boosted
model uses its logit as one feature among the engineered ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from garrison.detect.ml.dga.encoding import CodeMatrix, IntArray, decode_ngram, hashed_ngrams

F32 = NDArray[np.float32]


@dataclass(slots=True)
class LinearNgram:
    """Weights over ``2**bits`` n-gram buckets (plus one always-zero padding slot)."""

    weights: F32
    bias: float
    bits: int
    ngram_range: tuple[int, int]

    @classmethod
    def fit(
        cls,
        codes: CodeMatrix,
        lengths: IntArray,
        y: NDArray[np.int64],
        sample_weight: NDArray[np.float64],
        bits: int,
        ngram_range: tuple[int, int],
        c: float,
        seed: int,
    ) -> LinearNgram:
        x = design_matrix(codes, lengths, bits, ngram_range)
        clf = LogisticRegression(C=c, solver="liblinear", max_iter=200, random_state=seed)
        clf.fit(x, y, sample_weight=sample_weight)
        weights = np.zeros((1 << bits) + 1, dtype=np.float32)
        weights[: 1 << bits] = clf.coef_[0].astype(np.float32)
        return cls(weights, float(clf.intercept_[0]), bits, ngram_range)

    def logit(self, codes: CodeMatrix, lengths: IntArray) -> F32:
        buckets, _, mask = hashed_ngrams(codes, lengths, self.ngram_range, self.bits)
        count = np.maximum(mask.sum(1), 1)
        return (self.weights[buckets].sum(1) / count + self.bias).astype(np.float32)

    def top_ngrams(
        self, codes: CodeMatrix, lengths: IntArray, k: int = 3
    ) -> list[list[tuple[str, float]]]:
        """The ``k`` n-grams pushing each label hardest toward "malicious", with weights.

        Contributions are exact: the logit is the bias plus the sum of these terms over all
        of the label's n-grams.
        """
        buckets, packed, mask = hashed_ngrams(codes, lengths, self.ngram_range, self.bits)
        count = np.maximum(mask.sum(1), 1)[:, None]
        contrib = np.where(mask, self.weights[buckets] / count, -np.inf)
        k = min(k, contrib.shape[1])
        if k == 0:
            return [[] for _ in range(codes.shape[0])]
        top = np.argpartition(-contrib, k - 1, axis=1)[:, :k]
        rows = np.arange(codes.shape[0])[:, None]
        order = np.argsort(-contrib[rows, top], axis=1)
        top = top[rows, order]
        out: list[list[tuple[str, float]]] = []
        for i in range(codes.shape[0]):
            seen: list[tuple[str, float]] = []
            for j in top[i]:
                value = float(contrib[i, j])
                if np.isfinite(value) and value > 0:
                    seen.append((decode_ngram(int(packed[i, j])), round(value, 4)))
            out.append(seen)
        return out

    def to_state(self) -> dict[str, Any]:
        nz = np.flatnonzero(self.weights)
        return {
            "index": nz.astype(np.int32),
            "values": self.weights[nz].astype(np.float32),
            "bias": self.bias,
            "bits": self.bits,
            "ngram_min": self.ngram_range[0],
            "ngram_max": self.ngram_range[1],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> LinearNgram:
        bits = int(state["bits"])
        weights = np.zeros((1 << bits) + 1, dtype=np.float32)
        index = np.asarray(state["index"], dtype=np.int64)
        if index.size and (index.min() < 0 or index.max() >= 1 << bits):
            raise ValueError("linear model: weight index out of range")
        weights[index] = np.asarray(state["values"], dtype=np.float32)
        return cls(
            weights,
            float(state["bias"]),
            bits,
            (int(state["ngram_min"]), int(state["ngram_max"])),
        )


def design_matrix(
    codes: CodeMatrix, lengths: IntArray, bits: int, ngram_range: tuple[int, int]
) -> sparse.csr_matrix:
    """CSR matrix of n-gram bucket frequencies (each n-gram 1/count), for training."""
    buckets, _, mask = hashed_ngrams(codes, lengths, ngram_range, bits)
    count = np.maximum(mask.sum(1), 1)
    rows, cols = np.nonzero(mask)
    data = (1.0 / count)[rows]
    x = sparse.coo_matrix((data, (rows, buckets[rows, cols])), shape=(codes.shape[0], 1 << bits))
    return x.tocsr()
