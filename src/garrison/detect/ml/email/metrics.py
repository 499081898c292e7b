"""Classification figures of the email model at its threshold, per corpus group.

Used twice: by the model build for the out-of-fold training figures written into the model
card, and by the evaluation (``measure.ml_eval.email_eval``) for every fold and ablation.
It lives with the model so the build does not import the evaluation (a later stage).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import roc_auc_score

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
#: Corpus groups whose name contains this are the hard (marketing-like) legitimate mail.
HARD = "hard-ham"


def metrics(y: I64, prob: F64, flagged: NDArray[np.bool_], groups: list[str]) -> dict[str, Any]:
    tp = int((flagged & (y == 1)).sum())
    fp = int((flagged & (y == 0)).sum())
    fn = int((~flagged & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    g = np.asarray(groups)
    per_group = {}
    for name in sorted(set(groups)):
        sel = g == name
        per_group[name] = {
            "n": int(sel.sum()),
            "flagged_rate": round(float(flagged[sel].mean()), 4),
        }
    out: dict[str, Any] = {
        "n": len(y),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "fpr": round(fp / max(int((y == 0).sum()), 1), 4),
        "auc": round(float(roc_auc_score(y, prob)), 4) if len(set(y.tolist())) == 2 else None,
        "brier_equal_priors": _brier(y, prob),
        "per_group": per_group,
    }
    hard = np.array([HARD in name for name in groups])
    if hard.any():
        out["hard_ham_fpr"] = round(float(flagged[hard & (y == 0)].mean()), 4)
        out["hard_ham_false_positives"] = int(flagged[hard & (y == 0)].sum())
    return out


def _brier(y: I64, prob: F64) -> float:
    """Brier score with each class weighing half (the probabilities are at equal priors)."""
    err = (prob - y) ** 2
    return round(0.5 * float(err[y == 1].mean()) + 0.5 * float(err[y == 0].mean()), 4)
