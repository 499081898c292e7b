"""The email model: hashed n-grams + structural features, one linear model, Platt, threshold.

The logit is ``bias + w_word . x_word + w_char . x_char + w_struct . x_struct``, so every
feature's contribution is exact (weight x value, in log-odds before calibration). A Platt
sigmoid fitted on out-of-fold logits turns it into P(malicious) at equal class priors; the
verdict is ``P >= threshold``, the threshold fixed on out-of-fold training scores of benign
mail at a stated false-positive rate (see the model card).

The skops artefact holds only plain numbers and NumPy arrays (weights per hash bucket, no
text), so ``TRUSTED_TYPES`` is empty: ``load`` refuses any artefact that would need more.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from garrison.core.errors import InputError
from garrison.detect.ml.artifacts import SkopsArtifact, VerifiedModels
from garrison.detect.ml.artifacts import shipped_model_path as artifact_path
from garrison.detect.ml.email.parse import ParsedEmail
from garrison.detect.ml.email.structure import STRUCTURAL, structural_matrix
from garrison.detect.ml.email.text import TextHasher, normalise
from garrison.detect.ml.text import card_path as card_path  # re-exported

F64 = NDArray[np.float64]
FORMAT = "garrison-email/1"
#: Types beyond skops' defaults the artefact may contain: none.
TRUSTED_TYPES: list[str] = []


def shipped_model_path() -> Path:
    return artifact_path("email.skops")


@dataclass(slots=True)
class Features:
    word: sparse.csr_matrix
    char: sparse.csr_matrix
    struct: F64
    docs: list[str]

    def matrix(self, blocks: Sequence[str] = ("word", "char", "struct")) -> sparse.csr_matrix:
        """The design matrix of the chosen blocks (absent blocks as zero columns)."""
        parts = [
            self.word if "word" in blocks else _zeros_like(self.word),
            self.char if "char" in blocks else _zeros_like(self.char),
            sparse.csr_matrix(self.struct if "struct" in blocks else np.zeros_like(self.struct)),
        ]
        return sparse.hstack(parts, format="csr")

    def take(self, idx: NDArray[np.int64]) -> Features:
        return Features(
            self.word[idx], self.char[idx], self.struct[idx], [self.docs[i] for i in idx]
        )


def _zeros_like(x: sparse.csr_matrix) -> sparse.csr_matrix:
    return sparse.csr_matrix(x.shape, dtype=np.float64)


def featurise(messages: Sequence[ParsedEmail], hasher: TextHasher) -> Features:
    docs = [normalise(m.subject, m.text) for m in messages]
    word, char = hasher.transform(docs)
    return Features(word, char, structural_matrix(list(messages)), docs)


@dataclass(slots=True)
class EmailModel(SkopsArtifact):
    WHAT: ClassVar[str] = "email model"
    TRUSTED: ClassVar[Sequence[str]] = TRUSTED_TYPES

    hasher: TextHasher
    w_word: F64
    w_char: F64
    w_struct: F64
    bias: float
    platt: tuple[float, float]
    threshold: float
    version: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def weights(self) -> F64:
        return np.concatenate([self.w_word, self.w_char, self.w_struct])

    def logit(self, feats: Features) -> F64:
        return np.asarray(feats.matrix() @ self.weights + self.bias, dtype=np.float64)

    def probability(self, logit: F64) -> F64:
        a, b = self.platt
        return np.asarray(1.0 / (1.0 + np.exp(-(a * logit + b))), dtype=np.float64)

    def score(self, messages: Sequence[ParsedEmail]) -> tuple[F64, Features]:
        feats = featurise(messages, self.hasher)
        return self.probability(self.logit(feats)), feats

    def explain(self, feats: Features, i: int, top: int = 5) -> dict[str, Any]:
        """Exact log-odds contributions of row ``i``: per block, the top structural
        features, and the message's own words / character n-grams in the heaviest buckets."""
        struct = feats.struct[i] * self.w_struct
        word_row, char_row = feats.word[i], feats.char[i]
        word_c = word_row.data * self.w_word[word_row.indices]
        char_c = char_row.data * self.w_char[char_row.indices]
        blocks = {
            "bias": round(self.bias, 4),
            "words": round(float(word_c.sum()), 4),
            "char_ngrams": round(float(char_c.sum()), 4),
            "structure": round(float(struct.sum()), 4),
        }
        order = np.argsort(-np.abs(struct), kind="stable")[:top]
        structural = [
            {
                "feature": STRUCTURAL[j],
                "value": round(float(feats.struct[i, j]), 4),
                "contribution": round(float(struct[j]), 4),
            }
            for j in order
            if struct[j] != 0
        ]
        return {
            "log_odds": round(sum(blocks.values()), 4),
            "log_odds_by_block": blocks,
            "structural": structural,
            "words": self._terms(feats.docs[i], "word", word_row.indices, word_c, top),
            "char_ngrams": self._terms(feats.docs[i], "char", char_row.indices, char_c, 3),
            "method": "exact linear contributions (weight x value, log-odds before Platt)",
        }

    def _terms(
        self, doc: str, which: str, idx: NDArray[np.int32], contrib: F64, top: int
    ) -> list[dict[str, Any]]:
        if len(idx) == 0:
            return []
        names = self.hasher.terms(doc, which)
        out: list[dict[str, Any]] = []
        for k in np.argsort(-np.abs(contrib), kind="stable")[:top]:
            if contrib[k] == 0:
                continue
            terms = names.get(int(idx[k]), [])
            out.append({"terms": terms, "contribution": round(float(contrib[k]), 4)})
        return out

    # --- persistence --------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "hasher": json.dumps(self.hasher.to_json()),
            "structural": list(STRUCTURAL),
            "word": _sparse_state(self.w_word),
            "char": _sparse_state(self.w_char),
            "struct": self.w_struct.astype(np.float64),
            "bias": self.bias,
            "platt": [float(self.platt[0]), float(self.platt[1])],
            "threshold": self.threshold,
            "meta": json.dumps(self.meta),
        }

    @classmethod
    def from_state(cls, state: Any) -> EmailModel:
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise InputError("not a Garrison email model (format mismatch)")
        if list(state["structural"]) != list(STRUCTURAL):
            raise InputError("email model was trained with another structural feature set")
        hasher = TextHasher.from_json(json.loads(state["hasher"]))
        struct = np.asarray(state["struct"], dtype=np.float64)
        if struct.shape != (len(STRUCTURAL),):
            raise InputError("email model: structural weights have the wrong shape")
        platt = state["platt"]
        return cls(
            hasher,
            _sparse_load(state["word"], 1 << hasher.word_bits),
            _sparse_load(state["char"], 1 << hasher.char_bits),
            struct,
            float(state["bias"]),
            (float(platt[0]), float(platt[1])),
            float(state["threshold"]),
            str(state["version"]),
            dict(json.loads(state.get("meta", "{}"))),
        )


def _sparse_state(weights: F64) -> dict[str, Any]:
    nz = np.flatnonzero(weights)
    return {"index": nz.astype(np.int32), "values": weights[nz].astype(np.float32)}


def _sparse_load(state: dict[str, Any], size: int) -> F64:
    index = np.asarray(state["index"], dtype=np.int64)
    values = np.asarray(state["values"], dtype=np.float64)
    if index.shape != values.shape or (index.size and (index.min() < 0 or index.max() >= size)):
        raise InputError("email model: weight index out of range")
    out = np.zeros(size, dtype=np.float64)
    out[index] = values
    return out


_MODELS = VerifiedModels(EmailModel.from_bytes, "email", "email model")


def load_model(path: Path | None = None, home: Path | None = None) -> EmailModel:
    """The model at ``path``, or the one shipped with the package; cached per path and
    digest. Its bytes are read once and checked against the package manifest or the home's
    signed model registry before they are deserialised."""
    return _MODELS.get(path, home)
