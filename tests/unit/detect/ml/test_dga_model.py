"""The DGA model's parts: encoding, n-grams, segmentation, training, persistence, explanations.

A tiny model is trained here on generated names only (no corpus), to test the mechanics:
save/load with the skops allowlist, exact explanations, reproducibility.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import skops.io as sio

from garrison.core.errors import InputError
from garrison.detect.ml.dga.data import Names, synthetic, to_names
from garrison.detect.ml.dga.encoding import decode_ngram, encode, hashed_ngrams
from garrison.detect.ml.dga.features import BASIC_FEATURES, basic_features
from garrison.detect.ml.dga.model import FEATURES, DgaModel
from garrison.detect.ml.dga.train import TrainParams, WordList, fit_model, threshold_at_fpr
from garrison.detect.ml.dga.words import segment_features

pytest.importorskip("wordsegment", reason="training needs the wordsegment word list")

PARAMS = TrainParams(
    per_family=300,
    synthetic_per_kind=150,
    gbm_max_iter=25,
    n_words=4000,
    hash_bits=12,
    folds=3,
    synthetic_vocabulary=2000,
)


@pytest.fixture(scope="module")
def words() -> WordList:
    return WordList.load(PARAMS)


def _benign(words: WordList, n: int, seed: int) -> Names:
    """Benign-looking names: one or two common words, sometimes a digit or hyphen."""
    rng = np.random.default_rng(seed)
    vocab, _ = words.common(1500)
    out = []
    for _ in range(n):
        parts = [vocab[int(i)] for i in rng.integers(0, len(vocab), int(rng.integers(1, 3)))]
        label = ("-" if rng.random() < 0.1 else "").join(parts)
        if rng.random() < 0.1:
            label += str(int(rng.integers(1, 99)))
        out.append(f"{label}.{rng.choice(['com', 'org', 'net', 'de', 'co.uk'])}")
    return to_names(out, "benign")


@pytest.fixture(scope="module")
def trained(words: WordList) -> tuple[DgaModel, dict]:
    rng = np.random.default_rng(5)
    vocab, freq = words.common(2000)
    train = Names()
    for kind in ("letters", "hex", "words"):  # the "families" of this toy set
        fam = synthetic(kind, 300, rng, vocab, freq)
        fam.groups = [f"fam-{kind}"] * len(fam)
        train.extend(fam)
    train.extend(_benign(words, 1200, 1))
    return fit_model(train, PARAMS, words, version="dga-test")


def test_encode_and_ngrams():
    codes, lengths = encode(["abc", "a-9", ""])
    assert lengths.tolist() == [3, 3, 0]
    buckets, packed, mask = hashed_ngrams(codes, lengths, (2, 3), 10)
    assert mask.sum(1).tolist() == [4 + 3, 4 + 3, 1 + 0]
    texts = {decode_ngram(int(p)) for p, m in zip(packed[0], mask[0], strict=True) if m}
    assert texts == {"^a", "ab", "bc", "c$", "^ab", "abc", "bc$"}
    assert (buckets[~mask] == 1 << 10).all()


def test_basic_features():
    codes, lengths = encode(["abc123", "aaaa", "deadbeef01"])
    f = basic_features(codes, lengths)
    col = {name: f[:, i] for i, name in enumerate(BASIC_FEATURES)}
    assert col["length"].tolist() == [6, 4, 10]
    assert col["max_digit_run"].tolist() == [3, 0, 2]
    assert col["digit_letter_switches"].tolist() == [1, 0, 1]
    assert col["entropy"][1] == 0.0
    assert col["hex_only"].tolist() == [0, 0, 1]


def test_segmentation_finds_dictionary_words(words: WordList):
    table = words.table(PARAMS)
    codes, lengths = encode(["scoreadmireluckapplyfitcouple", "xqzjvkpw", "facebook"])
    f = segment_features(codes, lengths, table)
    n_words, coverage = f[:, 0], f[:, 1]
    assert n_words[0] >= 5 and coverage[0] >= 0.8
    assert n_words[1] == 0 and coverage[1] == 0.0
    assert n_words[2] == 2 and coverage[2] == 1.0


def test_threshold_at_fpr():
    scores = np.linspace(0, 1, 1000, dtype=np.float32)
    t = threshold_at_fpr(scores, 0.01)
    assert (scores >= t).mean() <= 0.01
    assert (scores >= np.nextafter(np.float32(t), np.float32(0))).mean() > 0.01


def test_model_separates_and_is_calibrated(trained):
    model, report = trained
    assert report["auc"] > 0.9
    assert report["fpr_at_threshold"] <= 0.03
    p, x = model.score(["xkqjzvwpfhtd", "bookstore"], ["com", "com"])
    assert x.shape == (2, len(FEATURES))
    assert p[0] > p[1]
    assert p.min() >= 0.0 and p.max() <= 1.0


def test_tree_contributions_sum_to_the_logit(trained):
    model, _ = trained
    names = ["xkqjzvwpfhtd", "bookstore", "3f9a0c77d2e1", "thequickbrownfox"]
    _, x = model.score(names, ["com"] * 4)
    contrib = model.contributions(x)
    base = model.explainer.expected_value
    np.testing.assert_allclose(contrib.sum(1) + base, model.logit(x), rtol=1e-4, atol=1e-4)


def test_linear_terms_are_exact(trained):
    model, _ = trained
    codes, lengths = encode(["xkqjzvwpfhtd"])
    buckets, _, mask = hashed_ngrams(codes, lengths, model.linear.ngram_range, model.linear.bits)
    terms = model.linear.weights[buckets[0][mask[0]]] / mask[0].sum()
    assert np.isclose(
        terms.sum() + model.linear.bias, model.linear.logit(codes, lengths)[0], atol=1e-5
    )
    top = model.linear.top_ngrams(codes, lengths, 3)[0]
    assert all(w > 0 for _, w in top)


def test_explanations_are_json_ready(trained):
    model, _ = trained
    names = ["xkqjzvwpfhtd", "go"]
    _, x = model.score(names, ["com", "de"])
    notes = model.explain(names, x)
    assert len(notes) == 2
    for note in notes:
        assert {"top_features", "ngrams"} <= note.keys()
        for feat in note["top_features"]:
            assert feat["feature"] in FEATURES
            assert feat["value"] is None or np.isfinite(feat["value"])


def test_save_load_round_trip(trained, tmp_path):
    model, _ = trained
    path = tmp_path / "dga.skops"
    model.save(path)
    again = DgaModel.load(path)
    names = ["xkqjzvwpfhtd", "bookstore", "a", "z" * 63]
    np.testing.assert_array_equal(
        model.score(names, ["com"] * 4)[0], again.score(names, ["com"] * 4)[0]
    )
    assert again.version == "dga-test" and again.threshold == model.threshold


class Sneaky:
    """Stands for an object a tampered artefact might smuggle in."""

    def __init__(self) -> None:
        self.payload = "whatever"


def test_untrusted_types_are_refused(trained, tmp_path):
    model, _ = trained
    state = model.to_state()
    state["meta"] = {"extra": Sneaky()}
    path = tmp_path / "tampered.skops"
    sio.dump(state, path)
    with pytest.raises(InputError, match="untrusted types"):
        DgaModel.load(path)


def test_broken_files_are_input_errors(tmp_path):
    junk = tmp_path / "junk.skops"
    junk.write_bytes(b"not a zip")
    with pytest.raises(InputError):
        DgaModel.load(junk)
    other = tmp_path / "other.skops"
    sio.dump({"format": "something-else"}, other)
    with pytest.raises(InputError, match="format"):
        DgaModel.load(other)
    with zipfile.ZipFile(tmp_path / "empty.skops", "w"):
        pass
    with pytest.raises(InputError):
        DgaModel.load(tmp_path / "empty.skops")


def test_training_is_reproducible(words):
    rng = np.random.default_rng(9)
    vocab, freq = words.common(500)
    data = synthetic("letters", 200, rng, vocab, freq).extend(_benign(words, 300, 2))
    params = TrainParams(
        per_family=100, synthetic_per_kind=50, gbm_max_iter=10, n_words=4000, hash_bits=10, folds=2
    )
    a, _ = fit_model(data, params, words)
    b, _ = fit_model(data, params, words)
    names = ["qwrtzpkl", "goodbooks", "x1y2z3"]
    np.testing.assert_array_equal(a.score(names, ["com"] * 3)[0], b.score(names, ["com"] * 3)[0])
    assert a.version == b.version


def test_evaluation_attaches_only_to_the_same_recipe(tmp_path):
    import json

    from garrison.detect.ml.dga.build import attach_evaluation

    model_path = tmp_path / "dga.skops"
    card = {"training_data": {"fingerprint_sha256": "abc"}, "params": {"seed": 1}}
    (tmp_path / "dga.card.json").write_text(json.dumps(card))
    report = {
        "dataset_fingerprint": "abc",
        "params": {"seed": 1},
        "leave_family_out": {
            "families": {
                "f": {"auc": 0.9, "recall_at_threshold": 0.5, "recall_at_1pct_fpr_test": 0.4}
            },
            "summary": {"mean_auc": 0.9},
        },
    }
    out = attach_evaluation(model_path, report)
    assert out["evaluation_summary"]["leave_family_out"]["f"]["auc"] == 0.9
    with pytest.raises(ValueError, match="other data"):
        attach_evaluation(model_path, {**report, "dataset_fingerprint": "xyz"})
    with pytest.raises(ValueError, match="parameters"):
        attach_evaluation(model_path, {**report, "params": {"seed": 2}})
