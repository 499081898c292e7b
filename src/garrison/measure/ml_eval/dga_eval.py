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

What "never saw" means here, checked rather than assumed:

- Train and test are disjoint in *labels* (the model only reads the label): ``google.de``
  in test while ``google.com`` trains would be a duplicate, not a test. Held-out benign
  lists are filtered the same way.
- A "family" is a generator: families a char n-gram model cannot tell apart (measured, see
  ``dga_separability``; here ``zeus`` and ``new_goz``) are held out together.
- The synthetic generators were chosen by people who had seen the families, so every
  leave-family-out run is repeated without any synthetic names and without the one
  generator closest to the held-out family ("leave-generator-out").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve

from garrison.detect.ml.dga.data import Dataset, Names, synthetic
from garrison.detect.ml.dga.model import DgaModel
from garrison.detect.ml.dga.train import (
    TrainParams,
    WordList,
    fit_model,
    group_weights,
    sample_training,
    threshold_at_fpr,
)
from garrison.measure.ml_eval.dga_separability import closest_generator, generator_groups

DICTIONARY_FAMILIES = ("matsnu", "rovnix")
Progress = Callable[[str], None]
#: Leave-family-out variants: every synthetic generator in training, none, or all but the
#: one closest to the held-out family.
SYNTHETIC_MODES = ("all", "none", "closest-out")
_MODE_KEYS = {
    "all": "leave_family_out",
    "none": "leave_family_out_no_synthetic",
    "closest-out": "leave_generator_out",
}


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
    #: Which leave-family-out variants to run (see SYNTHETIC_MODES).
    synthetic_modes: tuple[str, ...] = SYNTHETIC_MODES
    #: Hold out families that are the same generator together (measured separability).
    group_generators: bool = True
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


def split_by_label(names: Names, k: int, rng: np.random.Generator) -> tuple[Names, Names]:
    """(rest, test): about ``k`` names in test, no label on both sides."""
    labels = sorted(set(names.labels))
    order = rng.permutation(len(labels))
    counts: dict[str, int] = {}
    for label in names.labels:
        counts[label] = counts.get(label, 0) + 1
    chosen: set[str] = set()
    total = 0
    for i in order.tolist():
        if total >= k:
            break
        chosen.add(labels[i])
        total += counts[labels[i]]
    test = [i for i, lab in enumerate(names.labels) if lab in chosen]
    rest = [i for i, lab in enumerate(names.labels) if lab not in chosen]
    return names.take(rest), names.take(test)


def split_dataset(data: Dataset, cfg: EvalConfig, rng: np.random.Generator) -> _Split:
    """Train pool / test sample per family and a benign train/test split, disjoint in
    labels (see the module docstring)."""
    train: dict[str, Names] = {}
    test: dict[str, Names] = {}
    for name in sorted(data.families):
        fam = data.families[name]
        train[name], test[name] = split_by_label(fam, min(cfg.test_per_family, len(fam) // 2), rng)
    benign_train, benign_test = split_by_label(
        data.benign, round(len(data.benign) * cfg.benign_test_share), rng
    )
    return _Split(train, test, benign_train, benign_test)


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
    split: _Split,
    held: tuple[str, ...],
    cfg: EvalConfig,
    words: WordList,
    rng: np.random.Generator,
    params: TrainParams | None = None,
    baseline: bool | None = None,
) -> dict[str, Any]:
    """Train without ``held``; score each held family against the benign test set."""
    params = params or cfg.params
    fams = {k: v for k, v in split.train_families.items() if k not in held}
    train = sample_training(fams, split.benign_train, params, words, rng)
    started = time.perf_counter()
    model, _ = fit_model(train, params, words)
    seconds = time.perf_counter() - started
    p_ben = _score(model, split.benign_test)
    out: dict[str, Any] = {
        "train_rows": len(train),
        "fit_seconds": round(seconds, 1),
        "threshold": round(model.threshold, 5),
        "synthetic_kinds": list(params.synthetic_kinds),
        "families": {},
    }
    use_base = cfg.baseline if baseline is None else baseline
    base = _Baseline(_families_only(train), params.target_fpr, cfg.seed) if use_base else None
    b_ben = base.score(split.benign_test) if base else None
    for fam in held:
        p_mal = _score(model, split.test_families[fam])
        entry: dict[str, Any] = dict(_metrics(p_mal, p_ben, model.threshold, params.target_fpr))
        if base is not None and b_ben is not None:
            entry["baseline"] = _metrics(
                base.score(split.test_families[fam]), b_ben, base.threshold, params.target_fpr
            )
        out["families"][fam] = entry
    return out


def _generators(cfg: EvalConfig, words: WordList, n: int = 1500) -> dict[str, list[str]]:
    """Labels from each synthetic kind of the recipe (for measuring closeness)."""
    vocabulary, freq = words.common(cfg.params.synthetic_vocabulary)
    rng = np.random.default_rng(cfg.seed)
    return {
        kind: synthetic(kind, n, rng, vocabulary, freq).labels
        for kind in cfg.params.synthetic_kinds
    }


def protocol(split: _Split, cfg: EvalConfig, words: WordList) -> dict[str, Any]:
    """Which families are held out together and which generator is closest to each, both
    measured on the training pools (see ``separability``)."""
    pools = {k: v.labels for k, v in split.train_families.items()}
    if cfg.group_generators:
        groups, matrix = generator_groups(pools, seed=cfg.seed)
    else:
        groups, matrix = [(f,) for f in sorted(pools)], {}
    gens = _generators(cfg, words)
    closest: dict[str, Any] = {}
    for fam in sorted(pools):
        if gens:
            kind, aucs = closest_generator(pools[fam], gens, seed=cfg.seed)
            closest[fam] = {"closest": kind, "separability": aucs}
    return {
        "groups": [list(g) for g in groups],
        "family_separability": matrix,
        "generators": closest,
    }


def _group_of(fam: str, groups: list[list[str]]) -> tuple[str, ...]:
    for g in groups:
        if fam in g:
            return tuple(g)
    return (fam,)


def _mode_params(
    mode: str, held: tuple[str, ...], cfg: EvalConfig, proto: dict[str, Any]
) -> TrainParams:
    kinds = cfg.params.synthetic_kinds
    if mode == "none":
        kinds = ()
    elif mode == "closest-out":
        drop = {proto["generators"][f]["closest"] for f in held if f in proto["generators"]}
        kinds = tuple(k for k in kinds if k not in drop)
    elif mode != "all":
        raise ValueError(f"unknown synthetic mode {mode!r}")
    return replace(cfg.params, synthetic_kinds=kinds)


def leave_family_out(
    split: _Split,
    families: tuple[str, ...],
    mode: str,
    cfg: EvalConfig,
    words: WordList,
    proto: dict[str, Any],
    rng: np.random.Generator,
    say: Progress,
) -> dict[str, Any]:
    """One leave-family-out variant: each family's generator group held out in turn."""
    done: dict[tuple[str, ...], dict[str, Any]] = {}
    lofo: dict[str, Any] = {}
    for fam in families:
        held = _group_of(fam, proto["groups"])
        if held not in done:
            params = _mode_params(mode, held, cfg, proto)
            say(f"leave-family-out ({mode}): {', '.join(held)}")
            done[held] = _holdout_run(
                split, held, cfg, words, rng, params, baseline=cfg.baseline and mode == "all"
            )
        entry = dict(done[held]["families"][fam])
        entry["held_out_with"] = [f for f in held if f != fam]
        entry["synthetic_kinds"] = done[held]["synthetic_kinds"]
        lofo[fam] = entry
    return {"families": lofo, "summary": _summary(lofo)}


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
    train_labels = set(split.benign_train.labels)
    heldout = {
        k: v.take([i for i, lab in enumerate(v.labels) if lab not in train_labels])
        for k, v in heldout_benign.items()
    }
    report: dict[str, Any] = {
        "dataset_fingerprint": data.fingerprint,
        "params": cfg.params.to_json(),
        "benign_train": len(split.benign_train),
        "benign_test": len(split.benign_test),
        "test_per_family": cfg.test_per_family,
        "split": "train and test disjoint in labels (benign and every family)",
    }
    say("measuring generator groups and closest synthetic generators")
    proto = protocol(split, cfg, words)
    report["protocol"] = proto
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
    for mode in cfg.synthetic_modes:
        if mode != "all" and not cfg.params.synthetic_kinds:
            continue
        report[_MODE_KEYS[mode]] = leave_family_out(
            split, families, mode, cfg, words, proto, rng, say
        )
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
    dictionary = [v for k, v in lofo.items() if k in DICTIONARY_FAMILIES]
    out: dict[str, Any] = {
        "mean_auc": round(float(np.mean(aucs)), 4),
        "min_auc": round(float(np.min(aucs)), 4),
        "mean_recall_at_threshold": round(
            float(np.mean([v["recall_at_threshold"] for v in lofo.values()])), 4
        ),
    }
    if dictionary:
        out["dictionary_min_recall_at_threshold"] = round(
            float(min(v["recall_at_threshold"] for v in dictionary)), 4
        )
        out["dictionary_min_recall_at_1pct_fpr_test"] = round(
            float(min(v["recall_at_1pct_fpr_test"] for v in dictionary)), 4
        )
    base = [v["baseline"]["auc"] for v in lofo.values() if "baseline" in v]
    if base:
        out["baseline_mean_auc"] = round(float(np.mean(base)), 4)
    return out


def evaluate_folder(
    data: Path,
    holdout_benign: Sequence[Path] | None = None,
    families: Sequence[str] | None = None,
    per_family: int | None = None,
    baseline: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """``garrison eval dga``: load the dataset folder, check the requested families, and run
    ``evaluate`` with the held-out benign lists (default: those beside the corpus folder).
    The report's ``seconds`` is the wall time of the whole run."""
    from garrison.core.errors import InputError
    from garrison.detect.ml.dga.build import default_holdout, heldout_lists
    from garrison.detect.ml.dga.data import load_dataset

    if not data.is_dir():
        raise InputError(f"--data {data}: not a folder")
    dataset = load_dataset(data)
    cfg = EvalConfig(baseline=baseline, families=tuple(families) if families else None)
    if per_family is not None:
        cfg = replace(cfg, params=replace(cfg.params, per_family=per_family))
    unknown = [f for f in cfg.families or () if f not in dataset.families]
    if unknown:
        raise InputError(
            f"unknown families: {', '.join(unknown)} (known: {', '.join(sorted(dataset.families))})"
        )
    held = heldout_lists(holdout_benign or default_holdout(data), set())
    started = time.perf_counter()
    report = evaluate(dataset, held, cfg, progress=progress)
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report
