"""Evaluating the flow classifier on the NSL-KDD 20 % training set.

Stratified k-fold cross-validation (seeded), predictions pooled over the folds; per attack
category (DoS, Probe, R2L, U2R, plus normal): precision, recall, F1 and support, the
confusion matrix, and the binary attack-vs-normal view: ROC-AUC of 1 - P(normal) and the
recall at a 1 % false-positive rate, with the threshold fixed on the *training* part of
each fold (an inner 20 % validation split) before the test part is scored.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from garrison.measure.ml_eval.nslkdd_model import CATEGORIES, FlowClassifier, load


def _threshold_at_fpr(scores_normal: np.ndarray, fpr: float) -> float:
    """Smallest threshold whose false-positive rate on the normal scores is <= fpr."""
    if scores_normal.size == 0:
        return 0.5
    return float(np.quantile(scores_normal, 1.0 - fpr, method="higher"))


def evaluate(
    corpus: Path, folds: int = 5, seed: int = 0, max_iter: int = 100, fpr: float = 0.01
) -> dict[str, Any]:
    data = load(corpus / "nsl-kdd")
    X, y = data.X, data.y
    pred = np.zeros_like(y)
    attack_score = np.zeros(y.size)
    at_fpr = np.zeros(y.size, dtype=bool)
    started = time.perf_counter()
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(X, y):
        fit_idx, val_idx = train_test_split(
            train, test_size=0.2, stratify=y[train], random_state=seed
        )
        inner = FlowClassifier(seed, max_iter).fit(X[fit_idx], y[fit_idx])
        val_scores = 1.0 - inner.predict_proba(X[val_idx])[:, 0]
        threshold = _threshold_at_fpr(val_scores[y[val_idx] == 0], fpr)
        model = FlowClassifier(seed, max_iter).fit(X[train], y[train])
        proba = model.predict_proba(X[test])
        pred[test] = np.argmax(proba, axis=1)
        attack_score[test] = 1.0 - proba[:, 0]
        at_fpr[test] = attack_score[test] > threshold
    seconds = time.perf_counter() - started
    labels = list(range(len(CATEGORIES)))
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    per_category = {
        CATEGORIES[k]: {
            "precision": round(float(p[k]), 4),
            "recall": round(float(r[k]), 4),
            "f1": round(float(f[k]), 4),
            "support": int(s[k]),
        }
        for k in labels
    }
    is_attack = y != 0
    recall_at = {
        CATEGORIES[k]: round(float(at_fpr[y == k].mean()), 4) if (y == k).any() else None
        for k in labels
        if k != 0
    }
    return {
        "rows": int(y.size),
        "folds": folds,
        "seed": seed,
        "model": FlowClassifier.version,
        "accuracy": round(float((pred == y).mean()), 4),
        "macro_f1": round(float(np.mean(f)), 4),
        "per_category": per_category,
        "confusion": {
            "labels": list(CATEGORIES),
            "matrix": confusion_matrix(y, pred, labels=labels).tolist(),
        },
        "attack_vs_normal": {
            "roc_auc": round(float(roc_auc_score(is_attack, attack_score)), 5),
            "target_fpr": fpr,
            "measured_fpr": round(float(at_fpr[~is_attack].mean()), 5),
            "recall_per_category_at_fpr": recall_at,
        },
        "seconds": round(seconds, 1),
    }
