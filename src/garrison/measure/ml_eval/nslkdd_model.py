"""A flow classifier for KDD-style connection records (NSL-KDD's 41 features).

Gradient-boosted trees (scikit-learn ``HistGradientBoostingClassifier``) with the three
symbolic features (protocol, service, flag) as native categories, predicting the attack
category: normal, DoS, Probe, R2L, U2R. Class weights are balanced so the rare R2L and U2R
classes are not simply ignored. This is a model, not a detector: connection logs in the
wild do not carry KDD's content features (``hot``, ``num_failed_logins`` ...), so it is
evaluated on NSL-KDD (``garrison eval nslkdd``) rather than run in every hunt.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.class_weight import compute_sample_weight

CATEGORIES = ("normal", "dos", "probe", "r2l", "u2r")
SYMBOLIC = (1, 2, 3)  # protocol_type, service, flag
N_FEATURES = 41
_CATEGORY_PREFIX = re.compile(r"^(dos|u2r|r2l|probe|normal|unknown)(.*)$")


def attack_categories(path: Path) -> dict[str, str]:
    """attack name -> category from ``Attack_Types.csv``.

    The corpus copy lost its line breaks (``back,dosbuffer_overflow,u2r...``), so each
    comma-separated token after the first is read as "<category of the previous name>
    <next name>"; a file with proper lines reads the same way.
    """
    text = path.read_text(encoding="utf-8").replace("\r", "").replace("\n", "")
    tokens = [t.strip() for t in text.split(",")]
    out: dict[str, str] = {}
    name = tokens[0] if tokens else ""
    for token in tokens[1:]:
        m = _CATEGORY_PREFIX.match(token)
        if not m:
            break
        out[name] = m.group(1)
        name = m.group(2)
    return out


@dataclass(slots=True)
class FlowData:
    X: np.ndarray  # float matrix; symbolic columns ordinal-encoded
    y: np.ndarray  # category index into CATEGORIES
    attacks: np.ndarray  # the original attack label
    vocab: list[dict[str, int]]


def load(folder: Path) -> FlowData:
    mapping = attack_categories(folder / "Attack_Types.csv")
    rows: list[list[str]] = []
    with (folder / "KDDTrain+_20Percent.txt").open(encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if len(row) >= N_FEATURES + 1:
                rows.append(row)
    vocab: list[dict[str, int]] = [{} for _ in SYMBOLIC]
    X = np.zeros((len(rows), N_FEATURES))
    y = np.zeros(len(rows), dtype=int)
    attacks = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):
        for j in range(N_FEATURES):
            if j in SYMBOLIC:
                v = vocab[SYMBOLIC.index(j)]
                X[i, j] = v.setdefault(row[j], len(v))
            else:
                X[i, j] = _number(row[j])
        label = row[N_FEATURES].strip()
        attacks[i] = label
        category = mapping.get(label, "normal" if label == "normal" else "unknown")
        y[i] = CATEGORIES.index(category) if category in CATEGORIES else -1
    keep = y >= 0
    return FlowData(X[keep], y[keep], attacks[keep], vocab)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


class FlowClassifier:
    version = "nslkdd-hgb-1"

    def __init__(self, seed: int = 0, max_iter: int = 100) -> None:
        self.model = HistGradientBoostingClassifier(
            max_iter=max_iter,
            learning_rate=0.1,
            categorical_features=list(SYMBOLIC),
            random_state=seed,
            early_stopping=False,
        )

    def fit(self, X: np.ndarray, y: np.ndarray) -> FlowClassifier:
        self.model.fit(X, y, sample_weight=compute_sample_weight("balanced", y))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities for every class in ``CATEGORIES`` order (absent classes: 0)."""
        raw = self.model.predict_proba(X)
        out = np.zeros((X.shape[0], len(CATEGORIES)))
        for k, cls in enumerate(self.model.classes_):
            out[:, int(cls)] = raw[:, k]
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(np.argmax(self.predict_proba(X), axis=1))


def names(indices: Sequence[int]) -> list[str]:
    return [CATEGORIES[i] for i in indices]
