"""The DGA evaluation protocol and the generalisation aids of the training recipe.

What is checked: train and test never share a label; same-generator families are found
and held out together; the synthetic-generator variants drop what they say; the
length-normalised character evidence (``char_llr``) and the cut-to-benign-length copies
behave as documented. Everything runs on generated names (no corpus).
"""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pytest

from garrison.detect.ml.dga.build import heldout_lists
from garrison.detect.ml.dga.data import Names, synthetic, to_names
from garrison.detect.ml.dga.encoding import encode
from garrison.detect.ml.dga.features import CHAR_FEATURES, CharModel
from garrison.detect.ml.dga.train import TrainParams, cut_to_benign_lengths
from garrison.measure.ml_eval.dga_eval import EvalConfig, _mode_params, split_by_label
from garrison.measure.ml_eval.dga_separability import (
    closest_generator,
    generator_groups,
    separability,
)

WORDS = [
    "cloud",
    "shop",
    "news",
    "mail",
    "secure",
    "data",
    "online",
    "group",
    "bank",
    "travel",
    "media",
    "home",
    "world",
    "tech",
    "store",
    "city",
    "best",
    "free",
    "garden",
    "house",
    "paper",
    "music",
    "sport",
    "photo",
    "river",
    "stone",
    "light",
    "green",
    "market",
]


def _random_labels(n: int, lo: int, hi: int, seed: int, alphabet: str) -> list[str]:
    rng = np.random.default_rng(seed)
    chars = np.array(list(alphabet))
    return ["".join(rng.choice(chars, int(rng.integers(lo, hi + 1)))) for _ in range(n)]


def _word_labels(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(WORDS, int(rng.integers(1, 3)))) for _ in range(n)]


def test_split_by_label_never_shares_a_label():
    domains = [f"{w}.{tld}" for w in _word_labels(600, 1) for tld in ("com", "de")]
    names = to_names(domains, "benign")
    rest, test = split_by_label(names, 200, np.random.default_rng(0))
    assert len(rest) + len(test) == len(names)
    assert not set(rest.labels) & set(test.labels)
    assert len(test) >= 200


def test_heldout_lists_drop_labels_seen_in_training(tmp_path: Path):
    path = tmp_path / "held.txt"
    path.write_text("google.de\nexample.org\nnewsite.net\n", encoding="utf-8")
    held = heldout_lists([path], {"google", "example"})["held.txt"]
    assert held.labels == ["newsite"]


def test_separability_tells_generators_apart():
    a = _random_labels(800, 8, 12, 1, string.ascii_lowercase)
    a_twin = _random_labels(800, 8, 12, 2, string.ascii_lowercase)
    hexes = _random_labels(800, 8, 12, 3, "0123456789abcdef")
    assert separability(a, a_twin) < 0.65
    assert separability(a, hexes) > 0.95
    groups, matrix = generator_groups({"a": a, "a2": a_twin, "hex": hexes})
    assert ("a", "a2") in groups and ("hex",) in groups
    assert matrix["a"]["a2"] == matrix["a2"]["a"]
    kind, aucs = closest_generator(a, {"twin": a_twin, "hex": hexes})
    assert kind == "twin" and aucs["twin"] < aucs["hex"]


def test_mode_params_drop_the_closest_generator():
    cfg = EvalConfig()
    proto = {"generators": {"fam": {"closest": "letters"}, "other": {"closest": "words"}}}
    assert _mode_params("all", ("fam",), cfg, proto).synthetic_kinds == cfg.params.synthetic_kinds
    assert _mode_params("none", ("fam",), cfg, proto).synthetic_kinds == ()
    out = _mode_params("closest-out", ("fam", "other"), cfg, proto).synthetic_kinds
    assert "letters" not in out and "words" not in out and "hex" in out
    with pytest.raises(ValueError):
        _mode_params("bogus", ("fam",), cfg, proto)


def _char_model() -> CharModel:
    codes, lengths = encode(_word_labels(3000, 4))
    return CharModel.fit(codes, lengths)


def test_char_llr_orders_by_evidence_not_by_mean():
    model = _char_model()
    col = CHAR_FEATURES.index("char_llr")
    labels = ["securecloud", "xqzvkjwpfh", "xqzvk", "xqzvkjwpfhgtbnmlrdcs"]
    codes, lengths = encode(labels)
    llr = model.features(codes, lengths)[:, col]
    assert llr[0] > 0 > llr[1]  # words look written by people; random letters do not
    assert llr[3] < llr[1] < llr[2]  # more random letters, more evidence
    empty = model.features(*encode([]))
    assert empty.shape == (0, len(CHAR_FEATURES))


def test_char_llr_is_monotone_constrained():
    assert dict(TrainParams().monotone)["char_llr"] == -1


def test_cut_to_benign_lengths_makes_shorter_pieces_of_cuttable_names():
    rng = np.random.default_rng(0)
    vocabulary = WORDS
    mal = synthetic("letters", 400, rng, vocabulary, np.ones(len(vocabulary)) / len(vocabulary))
    mal.groups = ["fam"] * len(mal)
    benign = to_names([f"{w}.com" for w in _word_labels(300, 5)], "benign")
    cuttable = np.arange(len(mal)) % 2 == 0
    pieces = cut_to_benign_lengths(mal, benign, 1.0, rng, cuttable)
    assert len(pieces) > 50
    benign_lengths = {len(s) for s in benign.labels}
    originals = [lab for lab, ok in zip(mal.labels, cuttable, strict=True) if ok]
    for label, group in zip(pieces.labels, pieces.groups, strict=True):
        assert group == "fam"
        assert len(label) >= 4 and len(label) in benign_lengths
        assert any(label in orig and len(label) < len(orig) for orig in originals)
    assert len(cut_to_benign_lengths(mal, Names(), 1.0, rng)) == 0
    none_allowed = np.zeros(len(mal), dtype=bool)
    assert len(cut_to_benign_lengths(mal, benign, 1.0, rng, none_allowed)) == 0
