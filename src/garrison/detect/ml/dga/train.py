"""Training recipe for the DGA model: seeded, stacked, calibrated, thresholded.

0. Sample: names per family, generic synthetic names, and shorter copies of a share of the
   character-made malicious names cut to benign lengths (``cut_to_benign_lengths``), so
   that length stops being a shortcut for "benign".
1. Split the training names into a fitting part and a held-out calibration part (stratified
   by family).
2. Out-of-fold inputs for the trees: the n-gram model's logit comes from models that did not
   see the row's *family* (folds grouped by family), and the benign character model from
   models that did not see the row itself, so the trees learn how much to trust these
   inputs on names from families and sites they have never met.
3. Gradient-boosted trees over the engineered features and that logit.
4. On the calibration part: a Platt sigmoid at equal class weights, the threshold at the
   target false-positive rate on its benign names, the benign quantiles used in
   explanations, and metrics.

Everything random draws from one seed, so the same data and parameters give the same model.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from garrison.detect.ml.dga.data import BENIGN, SYNTHETIC_KINDS, Names, synthetic
from garrison.detect.ml.dga.encoding import encode
from garrison.detect.ml.dga.features import CharModel, engineered_features, trigram_counts
from garrison.detect.ml.dga.linear import LinearNgram
from garrison.detect.ml.dga.model import FEATURES, FORMAT, DgaModel, table_from_state
from garrison.detect.ml.dga.robust import BallAugment
from garrison.detect.ml.dga.words import (
    SEGMENT_FEATURES,
    WordTable,
    load_bigrams,
    load_wordsegment,
    segment_features,
    word_hashes,
)

F32 = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class TrainParams:
    seed: int = 20261125
    #: DGA names drawn per family (all when a family has fewer).
    per_family: int = 5000
    synthetic_per_kind: int = 3000
    synthetic_kinds: tuple[str, ...] = SYNTHETIC_KINDS
    #: Common words the "words" synthetic kind draws from (most frequent first).
    synthetic_vocabulary: int = 20000
    #: Share of malicious names that also get a copy cut to a benign length (see
    #: ``cut_to_benign_lengths``); 0 turns it off.
    length_augment: float = 0.25
    #: Only names whose dictionary words cover at most this share of the label are cut.
    cut_max_coverage: float = 0.8
    hash_bits: int = 18
    ngram_min: int = 1
    ngram_max: int = 4
    linear_c: float = 4.0
    folds: int = 4
    gbm_max_iter: int = 200
    gbm_learning_rate: float = 0.1
    gbm_max_leaf_nodes: int = 31
    gbm_min_samples_leaf: int = 40
    gbm_l2: float = 1.0
    #: Monotone constraints (+1 more malicious as the feature grows, -1 less) on features
    #: whose direction is known, so the trees extrapolate sensibly to unseen families.
    monotone: tuple[tuple[str, int], ...] = (
        ("ngram_logit", 1),
        ("char_logp_mean", -1),
        ("char_logp_min", -1),
        ("char_rare_share", 1),
        ("char_llr", -1),
        ("max_consonant_run", 1),
    )
    calibration_share: float = 0.2
    target_fpr: float = 0.01
    n_words: int = 50_000
    n_short_words: int = 24
    unknown_cost: float = 12.0
    char_alpha: float = 0.05
    #: Weight of each dictionary word in the benign character model (a benign name is 1).
    char_word_weight: float = 0.3
    #: Robust training against evasion (``robust.BallAugment``): malicious rows copied
    #: ``robust_copies`` times within this L2 radius (share of each feature's range); 0 is
    #: off. ``garrison models redteam dga`` measures what it buys and costs.
    robust_radius: float = 0.0
    robust_copies: int = 3
    #: OpenMP threads for the trees: one keeps training predictable on a shared machine,
    #: where OpenMP's waiting threads cost more than they save.
    threads: int = 1

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("threads")  # an execution setting: it does not change the model
        out["synthetic_kinds"] = list(self.synthetic_kinds)
        out["monotone"] = dict(self.monotone)
        if not self.robust_radius:  # off: not written, so version ids stay as they were
            out.pop("robust_radius")
            out.pop("robust_copies")
        return out


@dataclass(slots=True)
class WordList:
    words: list[str]
    costs: NDArray[np.float32]
    pair_keys: NDArray[np.uint32]
    pair_pmi: NDArray[np.float16]

    @classmethod
    def load(cls, params: TrainParams) -> WordList:
        words, costs = load_wordsegment(params.n_words, params.n_short_words)
        keys, pmi = load_bigrams(words)
        return cls(words, costs, keys, pmi)

    def table_state(self, params: TrainParams) -> dict[str, Any]:
        return {
            "hashes": word_hashes(self.words),
            "costs": self.costs,
            "lengths": np.array([len(w) for w in self.words], dtype=np.int16),
            "unknown_cost": params.unknown_cost,
            "source": "wordsegment 1.3.1",
            "count": len(self.words),
            "pair_keys": self.pair_keys,
            "pair_pmi": self.pair_pmi,
        }

    def table(self, params: TrainParams) -> WordTable:
        return table_from_state(self.table_state(params))

    def common(self, n: int) -> tuple[list[str], NDArray[np.float64]]:
        """The ``n`` most frequent words of 2-12 letters and their relative frequencies."""
        order = np.argsort(self.costs, kind="stable")
        chosen = [int(i) for i in order if 2 <= len(self.words[int(i)]) <= 12][:n]
        freq = np.exp(-self.costs[chosen].astype(np.float64))
        return [self.words[i] for i in chosen], freq / freq.sum()


def sample_training(
    families: dict[str, Names],
    benign: Names,
    params: TrainParams,
    words: WordList,
    rng: np.random.Generator,
) -> Names:
    """Up to ``per_family`` names per family, all benign names, and the synthetic kinds."""
    out = Names()
    for name in sorted(families):
        fam = families[name]
        k = min(params.per_family, len(fam))
        out.extend(fam.take(sorted(rng.choice(len(fam), k, replace=False).tolist())))
    vocabulary, freq = words.common(params.synthetic_vocabulary)
    for kind in params.synthetic_kinds:
        out.extend(synthetic(kind, params.synthetic_per_kind, rng, vocabulary, freq))
    if params.length_augment > 0:
        cuttable = _character_made(out, words.table(params), params.cut_max_coverage)
        out.extend(cut_to_benign_lengths(out, benign, params.length_augment, rng, cuttable))
    return out.extend(benign)


def _character_made(names: Names, table: WordTable, max_coverage: float) -> NDArray[np.bool_]:
    """Names whose dictionary words cover at most ``max_coverage`` of the label: made of
    characters, not of words. A piece of a word-made name is just a word or two, which
    is what benign names are made of, so those are not cut."""
    codes, lengths = encode(names.labels)
    coverage = segment_features(codes, lengths, table)[:, SEGMENT_FEATURES.index("words_coverage")]
    return np.asarray(coverage <= max_coverage)


def cut_to_benign_lengths(
    malicious: Names,
    benign: Names,
    share: float,
    rng: np.random.Generator,
    cuttable: NDArray[np.bool_] | None = None,
) -> Names:
    """Shorter copies of a ``share`` of the malicious names, each cut (at a random start)
    to a length drawn from the benign labels' lengths, in the same group.

    Every family in a corpus has its own length range, and benign names are mostly short,
    so "short means benign" is the cheapest rule a model can learn from a few families, and
    a wrong one for the next family (authors pick any length). A piece of a machine-made
    label is still machine-made, so cut copies teach the model to judge the characters,
    not the length. Only cuts that make a name shorter (and at least 4 characters) are kept.
    """
    out = Names()
    if len(malicious) == 0 or len(benign) == 0:
        return out
    lengths = np.array([len(s) for s in benign.labels])
    allowed = np.ones(len(malicious), dtype=bool) if cuttable is None else cuttable
    picked = np.flatnonzero((rng.random(len(malicious)) < share) & allowed)
    targets = lengths[rng.integers(0, len(lengths), len(picked))]
    seen = set(malicious.domains)
    for i, t in zip(picked.tolist(), targets.tolist(), strict=True):
        label = malicious.labels[i]
        if t < 4 or t >= len(label):
            continue
        start = int(rng.integers(0, len(label) - t + 1))
        piece = label[start : start + t].strip("-")
        key = f"{piece}.{malicious.suffixes[i]}"
        if len(piece) < 4 or key in seen:
            continue
        seen.add(key)
        out.domains.append(key)
        out.labels.append(piece)
        out.suffixes.append(malicious.suffixes[i])
        out.groups.append(malicious.groups[i])
    return out


def group_weights(groups: list[str]) -> NDArray[np.float64]:
    """Benign and malicious halves weigh the same; each malicious group weighs the same."""
    arr = np.array(groups)
    weights = np.zeros(len(arr))
    benign = arr == BENIGN
    mal_groups = sorted(set(arr[~benign].tolist()))
    if benign.any():
        weights[benign] = 0.5 / benign.sum()
    for g in mal_groups:
        sel = arr == g
        weights[sel] = 0.5 / len(mal_groups) / sel.sum()
    return weights * len(arr) / max(weights.sum(), 1e-12)


def _stratified_split(
    groups: list[str], share: float, rng: np.random.Generator
) -> tuple[list[int], list[int]]:
    arr = np.array(groups)
    first: list[int] = []
    second: list[int] = []
    for g in sorted(set(groups)):
        idx = np.flatnonzero(arr == g)
        rng.shuffle(idx)
        cut = round(len(idx) * share)
        second += idx[:cut].tolist()
        first += idx[cut:].tolist()
    return sorted(first), sorted(second)


def _fold_ids(groups: list[str], folds: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """Malicious rows fold by group (whole families together); benign rows at random.

    With fewer malicious groups than folds, every row is assigned at random instead.
    """
    arr = np.array(groups)
    out = np.zeros(len(arr), dtype=np.int64)
    mal = sorted(set(arr[arr != BENIGN].tolist()))
    if len(mal) < folds:
        return rng.integers(0, folds, len(arr))
    order = rng.permutation(len(mal))
    for rank, i in enumerate(order):
        out[arr == mal[i]] = rank % folds
    benign = np.flatnonzero(arr == BENIGN)
    out[benign] = rng.integers(0, folds, len(benign))
    return out


class _Components:
    """The parts shared by training folds: encoded labels, word table, char counts."""

    def __init__(self, data: Names, params: TrainParams, words: WordList) -> None:
        self.data = data
        self.params = params
        self.codes, self.lengths = encode(data.labels)
        self.table = words.table(params)
        wc, wl = encode(words.words)
        self.word_counts = trigram_counts(wc, wl) * params.char_word_weight
        self.y = data.y
        self.weights = group_weights(data.groups)

    def char_model(self, benign_rows: NDArray[np.int64]) -> CharModel:
        counts = self.word_counts + trigram_counts(
            self.codes[benign_rows], self.lengths[benign_rows]
        )
        return CharModel.from_counts(counts, self.params.char_alpha)

    def linear(self, rows: NDArray[np.int64]) -> LinearNgram:
        p = self.params
        return LinearNgram.fit(
            self.codes[rows],
            self.lengths[rows],
            self.y[rows],
            self.weights[rows],
            p.hash_bits,
            (p.ngram_min, p.ngram_max),
            p.linear_c,
            p.seed,
        )

    def engineered(self, rows: NDArray[np.int64], char_model: CharModel) -> F32:
        return engineered_features(
            self.codes[rows],
            self.lengths[rows],
            [self.data.suffixes[i] for i in rows],
            char_model,
            self.table,
        )


def out_of_fold_features(comp: _Components, rng: np.random.Generator) -> F32:
    """FEATURES for every row from models that did not see its fold."""
    n = len(comp.data)
    x = np.zeros((n, len(FEATURES)), dtype=np.float32)
    folds = _fold_ids(comp.data.groups, comp.params.folds, rng)
    benign = comp.y == 0
    for f in range(comp.params.folds):
        test = np.flatnonzero(folds == f)
        train = np.flatnonzero(folds != f)
        if len(test) == 0:
            continue
        char_model = comp.char_model(np.flatnonzero(benign & (folds != f)))
        x[test, :-1] = comp.engineered(test, char_model)
        x[test, -1] = comp.linear(train).logit(comp.codes[test], comp.lengths[test])
    return x


def fit_platt(
    logit: F32, y: NDArray[np.int64], weights: NDArray[np.float64]
) -> tuple[float, float]:
    clf = LogisticRegression(C=1e6, max_iter=1000)
    clf.fit(logit.reshape(-1, 1).astype(np.float64), y, sample_weight=weights)
    return float(clf.coef_[0, 0]), float(clf.intercept_[0])


def threshold_at_fpr(benign_scores: NDArray[np.float32], fpr: float) -> float:
    """Lowest threshold with at most ``fpr`` of these benign scores at or above it."""
    s = np.sort(benign_scores.astype(np.float32))[::-1]
    k = int(np.floor(fpr * len(s) + 1e-9))
    if len(s) == 0:
        return 0.5
    if k >= len(s):
        return float(s[-1])
    # scores are float32: the next float32 above the (k+1)-th highest score
    return float(np.nextafter(s[k], np.float32(np.inf)))


def fit_model(
    train: Names, params: TrainParams, words: WordList, version: str = "", fingerprint: str = ""
) -> tuple[DgaModel, dict[str, Any]]:
    """Fit the whole model on ``train`` (already sampled); returns it and its fit report."""
    rng = np.random.default_rng(params.seed)
    fit_idx, cal_idx = _stratified_split(train.groups, params.calibration_share, rng)
    fit = train.take(fit_idx)
    cal = train.take(cal_idx)
    comp = _Components(fit, params, words)
    x_fit = out_of_fold_features(comp, rng)
    gbm = HistGradientBoostingClassifier(
        max_iter=params.gbm_max_iter,
        learning_rate=params.gbm_learning_rate,
        max_leaf_nodes=params.gbm_max_leaf_nodes,
        min_samples_leaf=params.gbm_min_samples_leaf,
        l2_regularization=params.gbm_l2,
        early_stopping=False,
        random_state=params.seed,
        monotonic_cst=[dict(params.monotone).get(f, 0) for f in FEATURES],
    )
    x_gbm: NDArray[np.floating] = x_fit
    y_gbm, w_gbm = comp.y, comp.weights
    if params.robust_radius > 0:
        augment = BallAugment(params.robust_radius, params.robust_copies)
        every = np.ones(len(FEATURES), dtype=bool)  # all computed from the name
        x_gbm, y_gbm, w_gbm = augment.apply(x_fit, comp.y, comp.weights, every, rng)
    with threadpool_limits(params.threads):
        gbm.fit(x_gbm, y_gbm, sample_weight=w_gbm)
    all_rows = np.arange(len(fit))
    model = DgaModel(
        linear=comp.linear(all_rows),
        char_model=comp.char_model(np.flatnonzero(comp.y == 0)),
        words=comp.table,
        word_state=words.table_state(params),
        gbm=gbm,
        platt=(1.0, 0.0),
        threshold=0.5,
        benign_quantiles=np.zeros((3, len(FEATURES)), dtype=np.float32),
        version=version or f"dga-{_digest(params, fingerprint)}",
    )
    x_cal = model.features(cal.labels, cal.suffixes)
    logit = model.logit(x_cal)
    y_cal = cal.y
    model.platt = fit_platt(logit, y_cal, group_weights(cal.groups))
    p_cal = model.probability(logit)
    model.threshold = threshold_at_fpr(p_cal[y_cal == 0], params.target_fpr)
    with warnings.catch_warnings():  # all-NaN columns (no word pairs) give NaN, on purpose
        warnings.simplefilter("ignore", RuntimeWarning)
        model.benign_quantiles = np.nanpercentile(x_cal[y_cal == 0], [5, 50, 95], axis=0).astype(
            np.float32
        )
    model.meta = {"fingerprint": fingerprint, "params": params.to_json()}
    return model, calibration_report(model, cal, p_cal)


def calibration_report(model: DgaModel, cal: Names, p: NDArray[np.float32]) -> dict[str, Any]:
    y = cal.y
    groups = np.array(cal.groups)
    per_group = {
        g: round(float((p[groups == g] >= model.threshold).mean()), 4)
        for g in sorted(set(cal.groups))
        if g != BENIGN
    }
    w = group_weights(cal.groups)
    return {
        "rows": len(cal),
        "benign_rows": int((y == 0).sum()),
        "auc": round(float(roc_auc_score(y, p, sample_weight=w)), 5),
        "fpr_at_threshold": round(float((p[y == 0] >= model.threshold).mean()), 5),
        "recall_at_threshold_per_group": per_group,
        "brier_balanced": round(float(np.average((p - y) ** 2, weights=w)), 5),
    }


def _digest(params: TrainParams, fingerprint: str) -> str:
    """Version id: the same artefact format, feature set, data and parameters give the same
    id (training is deterministic); any change to one of them gives another."""
    text = f"{FORMAT}:{FEATURES}:{fingerprint}:{sorted(params.to_json().items())}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]
