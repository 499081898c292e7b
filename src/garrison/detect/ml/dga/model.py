"""The DGA model: features, gradient-boosted trees, Platt calibration, threshold, explanations.

Scoring a batch: labels are sorted by length and encoded in chunks (little padding), the
engineered features and the n-gram model's logit are computed with NumPy, scikit-learn's
``HistGradientBoostingClassifier`` gives a logit, and a Platt sigmoid fitted on held-out
data turns it into the probability of "malicious" at equal class priors. The verdict is
``probability >= threshold``, the threshold having been fixed on held-out training data at a
stated false-positive rate (see the model card).

Explanations are exact for both parts, in log-odds: the n-gram model's terms (how the
``ngram_logit`` feature's value is made up), and path-dependent TreeSHAP values for the trees
(``shap``: Shapley values of the features, which add up with the expected log-odds to the
trees' raw output). TreeSHAP costs far more than scoring (~0.3 ms per name against ~15 us),
so it runs only for the names that are explained: flagged ones, not every scored one.

The artefact is a skops file holding plain arrays and one scikit-learn estimator. It is
loaded only after ``skops.io.get_untrusted_types`` shows nothing outside ``TRUSTED_TYPES``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import HistGradientBoostingClassifier

from garrison.core.errors import InputError
from garrison.detect.ml.artifacts import SkopsArtifact, VerifiedModels
from garrison.detect.ml.artifacts import shipped_model_path as artifact_path
from garrison.detect.ml.dga.encoding import encode
from garrison.detect.ml.dga.features import ENGINEERED, CharModel, engineered_features
from garrison.detect.ml.dga.linear import LinearNgram
from garrison.detect.ml.dga.shap import TreeShap
from garrison.detect.ml.dga.words import PairTable, WordTable
from garrison.detect.ml.text import card_path as card_path  # re-exported
from garrison.detect.ml.text import read_card as read_card

F32 = NDArray[np.float32]
FORMAT = "garrison-dga/2"
FEATURES = (*ENGINEERED, "ngram_logit")
#: Types outside scikit-learn's defaults that the artefact may contain. Nothing else loads.
TRUSTED_TYPES = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]
CHUNK = 4096


def shipped_model_path() -> Path:
    return artifact_path("dga.skops")


@dataclass(slots=True)
class DgaModel(SkopsArtifact):
    WHAT: ClassVar[str] = "DGA model"
    TRUSTED: ClassVar[Sequence[str]] = TRUSTED_TYPES

    linear: LinearNgram
    char_model: CharModel
    words: WordTable
    word_state: dict[str, Any]
    gbm: HistGradientBoostingClassifier
    platt: tuple[float, float]
    threshold: float
    benign_quantiles: F32
    version: str
    meta: dict[str, Any] = field(default_factory=dict)
    _shap: TreeShap | None = None

    # --- scoring ------------------------------------------------------------------------

    def features(self, names: Sequence[str], suffixes: Sequence[str]) -> F32:
        """The FEATURES matrix for labels (``example``) and their public suffixes."""
        n = len(names)
        out = np.zeros((n, len(FEATURES)), dtype=np.float32)
        if n == 0:
            return out
        order = np.argsort(
            np.fromiter((len(s) for s in names), dtype=np.int64, count=n), kind="stable"
        )
        for start in range(0, n, CHUNK):
            idx = order[start : start + CHUNK]
            chunk = [names[i] for i in idx]
            codes, lengths = encode(chunk)
            out[idx, :-1] = engineered_features(
                codes, lengths, [suffixes[i] for i in idx], self.char_model, self.words
            )
            out[idx, -1] = self.linear.logit(codes, lengths)
        return out

    def logit(self, x: F32) -> F32:
        """The trees' raw output, on one thread (OpenMP start-up costs more than it saves
        on these batches, and badly so when other work shares the cores)."""
        if len(x) == 0:
            return np.zeros(0, dtype=np.float32)
        raw = self.gbm._raw_predict(x, n_threads=1)
        return np.asarray(raw, dtype=np.float32).reshape(-1)

    def probability(self, logit: F32) -> F32:
        a, b = self.platt
        return (1.0 / (1.0 + np.exp(-(a * logit.astype(np.float64) + b)))).astype(np.float32)

    def score(self, names: Sequence[str], suffixes: Sequence[str]) -> tuple[F32, F32]:
        """Calibrated probabilities of "malicious" and the feature matrix they came from."""
        x = self.features(names, suffixes)
        return self.probability(self.logit(x)), x

    # --- explanations -------------------------------------------------------------------

    @property
    def explainer(self) -> TreeShap:
        """The TreeSHAP explainer of the trees, built on first use (~0.3 s)."""
        if self._shap is None:
            self._shap = TreeShap(self.gbm)
        return self._shap

    def contributions(self, x: F32) -> NDArray[np.float64]:
        """(rows, features) exact TreeSHAP values in the trees' log-odds; with
        ``explainer.expected_value`` they add up to ``logit(x)``."""
        return self.explainer.shap_values(x)

    def explain(self, names: Sequence[str], x: F32, top: int = 4) -> list[dict[str, Any]]:
        """Per row: the top features by |TreeSHAP value| (with the feature's value and its
        benign median), the log-odds they explain, and for the n-gram part the n-grams
        weighing most toward "malicious" (exact terms of the ``ngram_logit`` feature)."""
        if len(names) == 0:
            return []
        contrib = self.contributions(x)
        base = self.explainer.expected_value
        codes, lengths = encode(list(names))
        grams = self.linear.top_ngrams(codes, lengths, 3)
        order = np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :top]
        rows = np.arange(len(names))[:, None]
        values = np.round(x[rows, order].astype(np.float64), 4).tolist()
        medians = np.round(self.benign_quantiles[1][order].astype(np.float64), 4).tolist()
        weights = np.round(contrib[rows, order], 4).tolist()
        logits = (contrib.sum(1) + base).tolist()
        out: list[dict[str, Any]] = []
        for i, cols in enumerate(order.tolist()):
            feats = [
                {
                    "feature": FEATURES[j],
                    "value": _clean(values[i][k]),
                    "benign_median": _clean(medians[i][k]),
                    "contribution": weights[i][k],
                }
                for k, j in enumerate(cols)
                if weights[i][k] != 0
            ]
            out.append(
                {
                    "top_features": feats,
                    "attribution": {
                        "method": "TreeSHAP (exact, path-dependent)",
                        "units": "log-odds of the trees before Platt scaling",
                        "expected_log_odds": round(base, 4),
                        "log_odds": round(logits[i], 4),
                    },
                    "ngrams": [{"ngram": g, "weight": w} for g, w in grams[i]],
                }
            )
        return out

    # --- persistence --------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "features": list(FEATURES),
            "linear": self.linear.to_state(),
            "char_logp": self.char_model.logp,
            "words": self.word_state,
            "gbm": self.gbm,
            "platt": list(self.platt),
            "threshold": self.threshold,
            "benign_quantiles": self.benign_quantiles,
            "meta": self.meta,
        }

    @classmethod
    def from_state(cls, state: Any) -> DgaModel:
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise InputError("not a Garrison DGA model (format mismatch)")
        if list(state["features"]) != list(FEATURES):
            raise InputError("DGA model was trained with another feature set")
        gbm = state["gbm"]
        if not isinstance(gbm, HistGradientBoostingClassifier):
            raise InputError("DGA model: unexpected estimator type")
        words = state["words"]
        table = table_from_state(words)
        char_logp = np.asarray(state["char_logp"], dtype=np.float32)
        if char_logp.shape != (40**3,):
            raise InputError("DGA model: character model has the wrong shape")
        platt = state["platt"]
        return cls(
            LinearNgram.from_state(state["linear"]),
            CharModel(char_logp),
            table,
            dict(words),
            gbm,
            (float(platt[0]), float(platt[1])),
            float(state["threshold"]),
            np.asarray(state["benign_quantiles"], dtype=np.float32),
            str(state["version"]),
            dict(state.get("meta", {})),
        )


def _clean(value: float) -> float | None:
    """JSON-safe: None for NaN (the feature does not apply, e.g. no word pairs)."""
    return None if value != value else value


def table_from_state(words: dict[str, Any]) -> WordTable:
    """The word table (and its word-pair table) from their stored arrays."""
    table = WordTable.build(
        np.asarray(words["hashes"], dtype=np.uint64),
        np.asarray(words["costs"], dtype=np.float32),
        np.asarray(words["lengths"], dtype=np.int64),
        float(words["unknown_cost"]),
    )
    if "pair_keys" in words:
        table.pairs = PairTable.build(
            np.asarray(words["pair_keys"], dtype=np.uint32),
            np.asarray(words["pair_pmi"], dtype=np.float32),
        )
    return table


_MODELS = VerifiedModels(DgaModel.from_bytes, "dga", "DGA model")


def load_model(path: Path | None = None, home: Path | None = None) -> DgaModel:
    """The model at ``path``, or the one shipped with the package; cached per path and
    digest. Its bytes are read once and checked against the package manifest or the home's
    signed model registry before they are deserialised (``home`` default: $GARRISON_HOME,
    else ~/.garrison)."""
    return _MODELS.get(path, home)
