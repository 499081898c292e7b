"""The phishing-URL model: hashed n-grams + lexical features, one logistic model, Platt.

The log-odds of a URL is a sum of terms: a bias, the weights of the host's character
n-grams, the weights of the path's and query's n-grams (each occurrence scaled by
``1/sqrt(n-grams in that part)``) and one term per standardized lexical feature. That sum
is the explanation: every term is exact, there is nothing to approximate. A Platt sigmoid
fitted on held-out training data turns it into the probability of "malicious" at equal
class priors; the verdict is ``probability >= threshold``, the threshold having been fixed
at a stated false-positive rate on that held-out data (see the model card).

The artefact is a skops file of plain arrays and numbers, no estimator objects, so the
allowlist of extra types (``TRUSTED_TYPES``) is empty: anything else refuses to load.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from garrison.core.errors import InputError
from garrison.detect.ml.artifacts import SkopsArtifact, VerifiedModels
from garrison.detect.ml.artifacts import shipped_model_path as artifact_path
from garrison.detect.ml.text import card_path as card_path  # re-exported
from garrison.detect.ml.url.lexical import ARTEFACT, LEXICAL, lexical_matrix
from garrison.detect.ml.url.ngrams import decode, hashed
from garrison.detect.ml.url.parse import ParsedUrl

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
FORMAT = "garrison-url/1"
#: Types outside skops' defaults the artefact may contain: none.
TRUSTED_TYPES: list[str] = []
CHUNK = 4096
_STATE_KEYS = (
    "format", "version", "recipe", "lexical", "index", "values", "lex_weights", "lex_mean",
    "lex_scale", "bias", "platt", "threshold", "meta",
)  # fmt: skip
HOST_SALT, REST_SALT = 0, 1


def shipped_model_path() -> Path:
    return artifact_path("url.skops")


@dataclass(frozen=True, slots=True)
class Recipe:
    """How URLs become features (fixed at training, stored in the artefact)."""

    bits: int = 18
    host_ngrams: tuple[int, int] = (2, 5)
    rest_ngrams: tuple[int, int] = (2, 5)
    #: Ablation only: n-grams of the raw text and the ARTEFACT features.
    artefacts: bool = False

    @property
    def lexical(self) -> tuple[str, ...]:
        return LEXICAL + (ARTEFACT if self.artefacts else ())


def parts(p: ParsedUrl, raw: bool) -> tuple[str, str]:
    """(host part, path+query part) read for n-grams: normalized, or raw for the ablation."""
    if not raw:
        port = f":{p.port}" if p.port is not None else ""
        return p.host + port, p.rest.lower()
    text = p.text
    start = text.find("://") + 3 if "://" in text else 0
    cut = text.find("/", start)
    cut = len(text) if cut < 0 else cut
    return text[:cut].lower(), text[cut:].lower()


@dataclass(slots=True)
class Terms:
    """Per-row log-odds terms; ``logit = bias + host + rest + lexical.sum(1)``."""

    host: F64
    rest: F64
    lexical: F64
    logit: F64

    def take(self, idx: list[int]) -> Terms:
        return Terms(self.host[idx], self.rest[idx], self.lexical[idx], self.logit[idx])


@dataclass(slots=True)
class UrlModel(SkopsArtifact):
    WHAT: ClassVar[str] = "URL model"
    TRUSTED: ClassVar[Sequence[str]] = TRUSTED_TYPES

    recipe: Recipe
    weights: F32  # (2**bits + 1,) n-gram bucket weights, last slot always 0
    lex_weights: F64
    lex_mean: F64
    lex_scale: F64
    bias: float
    platt: tuple[float, float]
    threshold: float
    version: str
    meta: dict[str, Any] = field(default_factory=dict)

    # --- scoring ------------------------------------------------------------------------

    def terms(self, urls: Sequence[ParsedUrl]) -> Terms:
        """The exact log-odds terms of valid parsed URLs (chunked by length)."""
        n = len(urls)
        host = np.zeros(n)
        rest = np.zeros(n)
        lex = np.zeros((n, len(self.recipe.lexical)))
        order = np.argsort(np.fromiter((len(u.text) for u in urls), np.int64, n), kind="stable")
        for start in range(0, n, CHUNK):
            idx = order[start : start + CHUNK]
            chunk = [urls[i] for i in idx]
            split = [parts(u, self.recipe.artefacts) for u in chunk]
            host[idx] = self._ngram_term([h for h, _ in split], self.recipe.host_ngrams, HOST_SALT)
            rest[idx] = self._ngram_term([r for _, r in split], self.recipe.rest_ngrams, REST_SALT)
            x = lexical_matrix(chunk, self.recipe.artefacts).astype(np.float64)
            lex[idx] = (x - self.lex_mean) / self.lex_scale * self.lex_weights
        return Terms(host, rest, lex, self.bias + host + rest + lex.sum(1))

    def _ngram_term(self, texts: list[str], ngram_range: tuple[int, int], salt: int) -> F64:
        buckets, weight, _ = hashed(texts, ngram_range, self.recipe.bits, salt)
        return np.asarray(self.weights[buckets].sum(1) * weight, dtype=np.float64)

    def probability(self, logit: F64) -> F64:
        a, b = self.platt
        z = np.clip(a * logit + b, -50.0, 50.0)
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)

    def score(self, urls: Sequence[ParsedUrl]) -> tuple[F64, Terms]:
        """Calibrated probabilities of "malicious" and the terms they came from."""
        t = self.terms(urls)
        return self.probability(t.logit), t

    # --- explanations -------------------------------------------------------------------

    def explain(
        self, urls: Sequence[ParsedUrl], terms: Terms, top: int = 4
    ) -> list[dict[str, Any]]:
        """Per URL: the log-odds split into bias / host n-grams / path n-grams / lexical
        features, the lexical features weighing most (with their values), and the
        n-grams of the URL itself pushing hardest toward "malicious"."""
        names = self.recipe.lexical
        if not urls:
            return []
        raw = lexical_matrix(urls, self.recipe.artefacts)
        split = [parts(u, self.recipe.artefacts) for u in urls]
        host_grams = self.top_ngrams([h for h, _ in split], HOST_SALT, self.recipe.host_ngrams)
        rest_grams = self.top_ngrams([r for _, r in split], REST_SALT, self.recipe.rest_ngrams)
        order = np.argsort(-np.abs(terms.lexical), axis=1, kind="stable")[:, :top]
        out: list[dict[str, Any]] = []
        for i in range(len(urls)):
            contrib = terms.lexical[i]
            out.append(
                {
                    "log_odds": round(float(terms.logit[i]), 4),
                    "terms": {
                        "bias": round(self.bias, 4),
                        "host_ngrams": round(float(terms.host[i]), 4),
                        "path_ngrams": round(float(terms.rest[i]), 4),
                        "lexical": round(float(contrib.sum()), 4),
                    },
                    "top_features": [
                        {
                            "feature": names[j],
                            "value": round(float(raw[i, j]), 4),
                            "contribution": round(float(contrib[j]), 4),
                        }
                        for j in order[i].tolist()
                        if abs(contrib[j]) >= 1e-4
                    ],
                    "ngrams": host_grams[i] + rest_grams[i],
                    "attribution": "exact terms of a linear model, log-odds before Platt scaling",
                }
            )
        return out

    def top_ngrams(
        self, texts: list[str], salt: int, ngram_range: tuple[int, int], k: int = 3
    ) -> list[list[dict[str, Any]]]:
        """Per text, the ``k`` n-grams weighing most toward "malicious" (exact terms; an
        n-gram occurring twice counts twice). Texts go in length-sorted chunks."""
        out: list[list[dict[str, Any]]] = [[] for _ in texts]
        order = np.argsort(np.fromiter(map(len, texts), np.int64, len(texts)), kind="stable")
        for start in range(0, len(texts), CHUNK):
            idx = order[start : start + CHUNK].tolist()
            chunk = self._top_ngrams([texts[i] for i in idx], salt, ngram_range, k)
            for i, found in zip(idx, chunk, strict=True):
                out[i] = found
        return out

    def _top_ngrams(
        self, texts: list[str], salt: int, ngram_range: tuple[int, int], k: int
    ) -> list[list[dict[str, Any]]]:
        buckets, weight, packed = hashed(texts, ngram_range, self.recipe.bits, salt, True)
        assert packed is not None  # noqa: S101 - narrows the type: packed is asked for (True)
        contrib = self.weights[buckets] * weight[:, None]
        m = min(4 * k, contrib.shape[1])
        top = np.argpartition(-contrib, m - 1, axis=1)[:, :m]
        rows = np.arange(len(texts))[:, None]
        top = top[rows, np.argsort(-contrib[rows, top], axis=1, kind="stable")]
        values = contrib[rows, top].astype(np.float64).tolist()
        codes = packed[rows, top].tolist()
        where = "host" if salt == HOST_SALT else "path"
        out: list[list[dict[str, Any]]] = []
        for vals, grams in zip(values, codes, strict=True):
            seen: dict[int, float] = {}
            for value, code in zip(vals, grams, strict=True):
                if value <= 0 or code < 0:
                    break
                if code not in seen and len(seen) == k:
                    continue
                seen[code] = seen.get(code, 0.0) + value
            ranked = sorted(seen.items(), key=lambda kv: -kv[1])
            out.append(
                [{"ngram": decode(g), "part": where, "weight": round(w, 4)} for g, w in ranked]
            )
        return out

    # --- persistence --------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        nz = np.flatnonzero(self.weights)
        return {
            "format": FORMAT,
            "version": self.version,
            "recipe": {
                "bits": self.recipe.bits,
                "host_ngrams": list(self.recipe.host_ngrams),
                "rest_ngrams": list(self.recipe.rest_ngrams),
                "artefacts": self.recipe.artefacts,
            },
            "lexical": list(self.recipe.lexical),
            "index": nz.astype(np.int32),
            "values": self.weights[nz].astype(np.float32),
            "lex_weights": self.lex_weights,
            "lex_mean": self.lex_mean,
            "lex_scale": self.lex_scale,
            "bias": self.bias,
            "platt": list(self.platt),
            "threshold": self.threshold,
            "meta": json.dumps(self.meta),
        }

    @classmethod
    def from_state(cls, state: Any) -> UrlModel:
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise InputError("not a Garrison URL model (format mismatch)")
        extra = sorted(set(state) - set(_STATE_KEYS))
        if extra:
            raise InputError(f"URL model: unexpected entries {', '.join(map(str, extra))}")
        r = state["recipe"]
        recipe = Recipe(
            int(r["bits"]),
            (int(r["host_ngrams"][0]), int(r["host_ngrams"][1])),
            (int(r["rest_ngrams"][0]), int(r["rest_ngrams"][1])),
            bool(r["artefacts"]),
        )
        if list(state["lexical"]) != list(recipe.lexical):
            raise InputError("URL model was trained with another feature set")
        if not 8 <= recipe.bits <= 24:
            raise InputError("URL model: hash size out of range")
        weights = np.zeros((1 << recipe.bits) + 1, dtype=np.float32)
        index = np.asarray(state["index"], dtype=np.int64)
        if index.size and (index.min() < 0 or index.max() >= 1 << recipe.bits):
            raise InputError("URL model: weight index out of range")
        weights[index] = np.asarray(state["values"], dtype=np.float32)
        arrays = [
            np.asarray(state[k], dtype=np.float64) for k in ("lex_weights", "lex_mean", "lex_scale")
        ]
        if any(a.shape != (len(recipe.lexical),) for a in arrays):
            raise InputError("URL model: lexical weights have the wrong shape")
        platt = state["platt"]
        return cls(
            recipe,
            weights,
            arrays[0],
            arrays[1],
            arrays[2],
            float(state["bias"]),
            (float(platt[0]), float(platt[1])),
            float(state["threshold"]),
            str(state["version"]),
            dict(json.loads(state.get("meta", "{}"))),
        )


_MODELS = VerifiedModels(UrlModel.from_bytes, "url", "URL model")


def load_model(path: Path | None = None, home: Path | None = None) -> UrlModel:
    """The model at ``path``, or the one shipped with the package; cached per path and
    digest. Its bytes are read once and checked against the package manifest or the home's
    signed model registry before they are deserialised."""
    return _MODELS.get(path, home)
