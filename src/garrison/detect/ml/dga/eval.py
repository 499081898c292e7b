"""Honest evaluation of the DGA model: random split, leave-family-out, held-out benign lists.

Random splits flatter every DGA model (a family's names look alike), so the figures that
matter are leave-family-out: for each family, the whole recipe (n-gram model, character
model, trees, calibration, threshold) is retrained without that family and then scored on
it against benign names none of the models saw. The threshold is always the one fixed on
training data at the target false-positive rate; "recall at 1 % FPR on test" (the ROC
point) is reported beside it. Dictionary families are also held out *together*, so that
no dictionary DGA at all is in training. False positives are measured on benign lists the
model never trained on, which is where FPR drifts in practice.

The floor (a char 1-4-gram TF-IDF logistic regression, as in FIELD-NOTES) is run through
the same splits when asked, so the comparison is like for like.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve

from garrison.detect.ml.dga.data import Dataset, Names
from garrison.detect.ml.dga.model import DgaModel
from garrison.detect.ml.dga.train import (
    TrainParams,
    WordList,
    fit_model,
    group_weights,
    sample_training,
    threshold_at_fpr,
)

DICTIONARY_FAMILIES = ("matsnu", "rovnix")
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class EvalConfig:
    params: TrainParams = field(default_factory=TrainParams)
    test_per_family: int = 5000
    benign_test_share: float = 0.2
    #: Families to hold out one at a time (default: all).
    families: tuple[str, ...] | None = None
    dictionary_families: tuple[str, ...] = DICTIONARY_FAMILIES
    baseline: bool = True
    random_split: bool = True
    seed: int = 7


def recall_at_fpr(y: NDArray[np.int64], scores: NDArray[np.float32], fpr: float) -> float:
    """Best recall with false-positive rate <= ``fpr`` on this test set (the ROC point)."""
    f, t, _ = roc_curve(y, scores)
    ok = f <= fpr
    return float(t[ok].max()) if ok.any() else 0.0


def _metrics(
    p_mal: NDArray[np.float32], p_ben: NDArray[np.float32], threshold: float, fpr: float
) -> dict[str, float]:
    y = np.r_[np.ones(len(p_mal), dtype=np.int64), np.zeros(len(p_ben), dtype=np.int64)]
    s = np.r_[p_mal, p_ben]
    return {
        "n": len(p_mal),
        "auc": round(float(roc_auc_score(y, s)), 4),
        "recall_at_threshold": round(float((p_mal >= threshold).mean()), 4),
        "recall_at_1pct_fpr_test": round(recall_at_fpr(y, s, fpr), 4),
        "benign_fpr_at_threshold": round(float((p_ben >= threshold).mean()), 4),
    }


@dataclass(slots=True)
class _Split:
    train_families: dict[str, Names]
    test_families: dict[str, Names]
    benign_train: Names
    benign_test: Names


def split_dataset(data: Dataset, cfg: EvalConfig, rng: np.random.Generator) -> _Split:
    """Disjoint train pool / test sample per family, and a benign train/test split."""
    train: dict[str, Names] = {}
    test: dict[str, Names] = {}
    for name in sorted(data.families):
        fam = data.families[name]
        idx = rng.permutation(len(fam))
        k = min(cfg.test_per_family, len(fam) // 2)
        test[name] = fam.take(idx[:k].tolist())
        train[name] = fam.take(idx[k:].tolist())
    idx = rng.permutation(len(data.benign))
    cut = round(len(idx) * cfg.benign_test_share)
    return _Split(
        train,
        test,
        data.benign.take(sorted(idx[cut:].tolist())),
        data.benign.take(sorted(idx[:cut].tolist())),
    )


def _score(model: DgaModel, names: Names) -> NDArray[np.float32]:
    return model.score(names.labels, names.suffixes)[0]


class _Baseline:
    """The FIELD-NOTES floor: char 1-4-gram TF-IDF + logistic regression, threshold at FPR."""

    def __init__(self, train: Names, fpr: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        idx = rng.permutation(len(train))
        cut = int(len(idx) * 0.8)
        fit, cal = train.take(idx[:cut].tolist()), train.take(idx[cut:].tolist())
        self.vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True, min_df=2)
        x = self.vec.fit_transform(fit.labels)
        self.clf = LogisticRegression(C=4.0, max_iter=500, solver="liblinear")
        self.clf.fit(x, fit.y, sample_weight=group_weights(fit.groups))
        p_cal = self.score(cal)
        self.threshold = threshold_at_fpr(p_cal[cal.y == 0], fpr)

    def score(self, names: Names) -> NDArray[np.float32]:
        return self.clf.predict_proba(self.vec.transform(names.labels))[:, 1].astype(np.float32)


def _families_only(train: Names) -> Names:
    """Training names without the synthetic kinds (the baseline trains on real data only)."""
    return train.take([i for i, g in enumerate(train.groups) if not g.startswith("synthetic")])


def _holdout_run(
    split: _Split, held: tuple[str, ...], cfg: EvalConfig, words: WordList, rng: np.random.Generator
) -> dict[str, Any]:
    """Train without ``held``; score each held family against the benign test set."""
    fams = {k: v for k, v in split.train_families.items() if k not in held}
    train = sample_training(fams, split.benign_train, cfg.params, words, rng)
    started = time.perf_counter()
    model, _ = fit_model(train, cfg.params, words)
    seconds = time.perf_counter() - started
    p_ben = _score(model, split.benign_test)
    out: dict[str, Any] = {
        "train_rows": len(train),
        "fit_seconds": round(seconds, 1),
        "threshold": round(model.threshold, 5),
        "families": {},
    }
    base = (
        _Baseline(_families_only(train), cfg.params.target_fpr, cfg.seed)
        if (cfg.baseline)
        else None
    )
    b_ben = base.score(split.benign_test) if base else None
    for fam in held:
        p_mal = _score(model, split.test_families[fam])
        entry: dict[str, Any] = dict(_metrics(p_mal, p_ben, model.threshold, cfg.params.target_fpr))
        if base is not None and b_ben is not None:
            entry["baseline"] = _metrics(
                base.score(split.test_families[fam]), b_ben, base.threshold, cfg.params.target_fpr
            )
        out["families"][fam] = entry
    return out


def _benign_fpr(model: DgaModel, lists: dict[str, Names]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, names in lists.items():
        if len(names) == 0:
            continue
        p = _score(model, names)
        out[name] = {
            "n": len(names),
            "fpr_at_threshold": round(float((p >= model.threshold).mean()), 4),
        }
    return out


def evaluate(
    data: Dataset,
    heldout_benign: dict[str, Names],
    cfg: EvalConfig,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The full evaluation report (a JSON-able dict)."""
    say = progress or (lambda _msg: None)
    rng = np.random.default_rng(cfg.seed)
    words = WordList.load(cfg.params)
    split = split_dataset(data, cfg, rng)
    train_keys = set(split.benign_train.domains)
    heldout = {
        k: v.take([i for i, d in enumerate(v.domains) if d not in train_keys])
        for k, v in heldout_benign.items()
    }
    report: dict[str, Any] = {
        "dataset_fingerprint": data.fingerprint,
        "params": cfg.params.to_json(),
        "benign_train": len(split.benign_train),
        "benign_test": len(split.benign_test),
        "test_per_family": cfg.test_per_family,
    }
    if cfg.random_split:
        say("random split: training on every family")
        train = sample_training(split.train_families, split.benign_train, cfg.params, words, rng)
        model, _ = fit_model(train, cfg.params, words)
        p_ben = _score(model, split.benign_test)
        per_family = {
            f: _metrics(
                _score(model, split.test_families[f]), p_ben, model.threshold, cfg.params.target_fpr
            )
            for f in sorted(split.test_families)
        }
        p_all = np.concatenate(
            [_score(model, split.test_families[f]) for f in sorted(split.test_families)]
        )
        report["random_split"] = {
            "pooled": _metrics(p_all, p_ben, model.threshold, cfg.params.target_fpr),
            "families": per_family,
            "cross_source": _cross_source(model, data.cross_source),
            "heldout_benign": _benign_fpr(model, heldout),
        }
    families = cfg.families or tuple(sorted(data.families))
    lofo: dict[str, Any] = {}
    for fam in families:
        say(f"leave-family-out: {fam}")
        lofo[fam] = _holdout_run(split, (fam,), cfg, words, rng)["families"][fam]
    report["leave_family_out"] = {"families": lofo, "summary": _summary(lofo)}
    dict_fams = tuple(f for f in cfg.dictionary_families if f in data.families)
    if dict_fams:
        say(f"leave-dictionary-families-out: {', '.join(dict_fams)}")
        report["leave_dictionary_out"] = _holdout_run(split, dict_fams, cfg, words, rng)
    return report


def _cross_source(model: DgaModel, names: Names) -> dict[str, Any]:
    if len(names) == 0:
        return {}
    p = _score(model, names)
    return {"n": len(names), "recall_at_threshold": round(float((p >= model.threshold).mean()), 4)}


def _summary(lofo: dict[str, Any]) -> dict[str, Any]:
    if not lofo:
        return {}
    aucs = [v["auc"] for v in lofo.values()]
    dict_recall = [v["recall_at_threshold"] for k, v in lofo.items() if k in DICTIONARY_FAMILIES]
    out: dict[str, Any] = {
        "mean_auc": round(float(np.mean(aucs)), 4),
        "min_auc": round(float(np.min(aucs)), 4),
    }
    if dict_recall:
        out["dictionary_min_recall_at_threshold"] = round(float(min(dict_recall)), 4)
    base = [v["baseline"]["auc"] for v in lofo.values() if "baseline" in v]
    if base:
        out["baseline_mean_auc"] = round(float(np.mean(base)), 4)
    return out
