"""The DGA model as an evasion target, on the corpus's DGA families.

Features are the shipped model's own (``DgaModel.features``: engineered name features and
the n-gram model's logit). Every one of them is computed from the registered label, which
the DGA author chooses, so every feature is controlled; what the author does not control
(the resolver's NXDOMAIN answers, the querying host's other look-ups) is context the
``ml.dga`` detector adds after the model, not a model input.

Both sides are gradient-boosted trees with the shipped recipe's hyper-parameters and
monotone constraints, fitted on the same training split of the corpus (families present
there only), thresholds fixed at the shipped false-positive rate on a calibration part of
it: the undefended side as the shipped recipe trains it, the defended side with
``BallAugment`` (``garrison.detect.ml.dga.robust``). Clean figures are on a disjoint test
split; the attacked points are test names of the DGA families that both sides flag.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from garrison.core.errors import InputError
from garrison.detect.ml.dga.data import Names, load_dataset
from garrison.detect.ml.dga.model import FEATURES, load_model
from garrison.detect.ml.dga.robust import BallAugment
from garrison.detect.ml.dga.train import TrainParams, group_weights, threshold_at_fpr
from garrison.measure.redteam.contract import Target
from garrison.measure.redteam.space import F64, Bools, EvasionSetup, Side, clean_figures

#: The defence: radius in units of each feature's range (see ``BallAugment``).
DEFENCE = BallAugment(radius=0.3, copies=3)
TEST_SHARE = 0.3
CAL_SHARE = 0.2
#: Integer-valued features (counts, lengths, flags).
INTEGER = (
    "length", "max_digit_run", "hyphens", "max_consonant_run", "digit_letter_switches",
    "hex_only", "words_n", "words_max_len", "words_unknown_chars", "words_n_long",
    "words_n_common",
)  # fmt: skip
NOTES = [
    "dga: every model feature is computed from the name, so all are attacker-controlled; "
    "features undefined for a name (no word pairs) stay undefined",
    "dga: realisable = integer counts rounded, digit and unique-character ratios put on "
    "the length's grid, and count features bounded by the length; the character-model, "
    "word-segmentation and n-gram features are only kept in their observed range: no "
    "string is searched for",
    "dga: the n-gram and character models inside the features are the shipped ones, "
    "which saw these corpus families in training; both sides share them",
]


def build(target: Target, defence: BallAugment = DEFENCE) -> EvasionSetup:
    folder = target.corpus / "dga"
    try:
        ds = load_dataset(folder, limit=target.per_group, seed=target.seed)
    except FileNotFoundError as exc:
        raise InputError(f"redteam dga: {exc}") from exc
    rng = np.random.default_rng(target.seed)
    names = Names()
    for family in sorted(ds.families):
        names.extend(ds.families[family])
    n_benign = min(len(ds.benign), target.per_group * len(ds.families))
    names.extend(ds.benign.take(sorted(rng.choice(len(ds.benign), n_benign, False).tolist())))
    x = load_model().features(names.labels, names.suffixes).astype(np.float64)
    y = names.y
    train, test = _split(names.groups, TEST_SHARE, rng)
    fit, cal = _split([names.groups[i] for i in train], CAL_SHARE, rng)
    fit, cal = train[fit], train[cal]
    controlled = np.ones(len(FEATURES), dtype=bool)
    weights = group_weights([names.groups[i] for i in fit])
    sides = []
    for name, augment in (("undefended", BallAugment()), ("defended", defence)):
        xf, yf, wf = augment.apply(x[fit], y[fit], weights, controlled, rng)
        gbm = _fit(xf, yf, wf, target.seed)
        cut = _logit_threshold(gbm, x[cal][y[cal] == 0])
        sides.append(_side(name, gbm, cut, x[test], y[test]))
    mal_test = test[y[test] == 1]
    both = mal_test[sides[0].flags(x[mal_test]) & sides[1].flags(x[mal_test])]
    pick = np.random.default_rng([target.seed, 1])  # the same points whatever the defence
    chosen = np.sort(pick.choice(both, min(target.points, len(both)), replace=False))
    lo, hi = np.nanmin(x[fit], axis=0), np.nanmax(x[fit], axis=0)
    notes = [*NOTES, f"dga: defence {defence}"]
    return EvasionSetup(
        FEATURES, controlled, lo, hi, sides[0], sides[1], x[chosen], x[fit],
        lambda _x, adv: realise(adv, lo, hi), notes,
    )  # fmt: skip


def _split(groups: list[str], share: float, rng: np.random.Generator) -> tuple[F64, F64]:
    arr = np.array(groups)
    first: list[int] = []
    second: list[int] = []
    for g in sorted(set(groups)):
        idx = rng.permutation(np.flatnonzero(arr == g))
        cut = round(len(idx) * share)
        second += idx[:cut].tolist()
        first += idx[cut:].tolist()
    return np.array(sorted(first)), np.array(sorted(second))


def _fit(x: F64, y: np.ndarray, w: F64, seed: int) -> HistGradientBoostingClassifier:
    p = TrainParams()
    gbm = HistGradientBoostingClassifier(
        max_iter=p.gbm_max_iter, learning_rate=p.gbm_learning_rate,
        max_leaf_nodes=p.gbm_max_leaf_nodes, min_samples_leaf=p.gbm_min_samples_leaf,
        l2_regularization=p.gbm_l2, early_stopping=False, random_state=seed,
        monotonic_cst=[dict(p.monotone).get(f, 0) for f in FEATURES],
    )  # fmt: skip
    with threadpool_limits(1):
        gbm.fit(x, y, sample_weight=w)
    return gbm


def _raw(gbm: HistGradientBoostingClassifier, x: F64) -> F64:
    return np.asarray(gbm._raw_predict(x, n_threads=1), dtype=np.float64).reshape(-1)


def _logit_threshold(gbm: HistGradientBoostingClassifier, benign: F64) -> float:
    return threshold_at_fpr(_raw(gbm, benign).astype(np.float32), TrainParams().target_fpr)


def _side(
    name: str, gbm: HistGradientBoostingClassifier, cut: float, x: F64, y: np.ndarray
) -> Side:
    def margin(rows: F64) -> F64:
        return _raw(gbm, rows) - cut

    return Side(name, margin, clean_figures(margin(x), y))


def realise(adv: F64, lo: F64, hi: F64) -> tuple[F64, Bools]:
    """Projected rows (see NOTES) and whether each could be a real name's features."""
    idx = {f: i for i, f in enumerate(FEATURES)}
    x = np.where(np.isnan(adv), adv, np.clip(adv, lo, hi))
    for f in INTEGER:
        x[:, idx[f]] = np.round(x[:, idx[f]])
    length = np.maximum(x[:, idx["length"]], 1.0)
    x[:, idx["length"]] = length
    for f in ("digit_ratio", "unique_ratio"):
        x[:, idx[f]] = np.round(x[:, idx[f]] * length) / length
    digits = x[:, idx["digit_ratio"]] * length
    ok = x[:, idx["max_digit_run"]] <= digits + 1e-6
    ok &= x[:, idx["hyphens"]] <= np.maximum(length - 2, 0)
    for f in ("max_consonant_run", "words_max_len", "words_unknown_chars"):
        ok &= x[:, idx[f]] <= length
    ok &= x[:, idx["digit_letter_switches"]] <= np.maximum(length - 1, 0)
    ok &= x[:, idx["words_n_long"]] <= x[:, idx["words_n"]]
    ok &= x[:, idx["words_n_common"]] <= x[:, idx["words_n"]]
    ok &= x[:, idx["entropy"]] <= np.log2(np.minimum(length, 38.0)) + 1e-6
    ok &= (x[:, idx["unique_ratio"]] * length) <= np.minimum(length, 38.0)
    hexed = x[:, idx["hex_only"]] == 1
    ok &= ~hexed | ((length >= 8) & (digits > 0))
    return x, ok
