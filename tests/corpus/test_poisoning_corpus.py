"""The poisoning defence, bounded: on a small sample of the phishing-URL corpus, 5 % of
the new training set poisoned three ways (random flips, targeted flips, an ART backdoor),
the label-consistency check must find >= 90 % of the poisoned rows with <= 5 % false
positives, and the model retrained without the flagged rows must hold the attack success
rate to <= 5 % (issue 13's figures; bench/bench_poisoning.py measures the full sizes)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from garrison.measure.poison_subjects import UrlSubject
from garrison.measure.poisoning import KINDS, evaluate, poison


def _sample(corpus: Path, out: Path, per_label: int) -> Path:
    rng = random.Random(11)
    out.mkdir()
    for path in sorted((corpus / "phishing-urls").glob("*.json")):
        urls = json.loads(path.read_text(encoding="utf-8"))
        (out / path.name).write_text(json.dumps(rng.sample(urls, per_label)))
    return out


@pytest.mark.corpus
def test_the_defence_finds_the_poison_and_holds_the_attack(corpus: Path, tmp_path: Path):
    subject = UrlSubject(_sample(corpus, tmp_path / "urls", 4500), rows=3000)
    result = evaluate(subject, KINDS, share=0.05, seed=0)
    assert result.clean_flagged <= 0.05, "the check flags clean data (ART issue #1188)"
    for kind in result.kinds:
        assert kind.poisoned_rows == round(0.05 * kind.rows)
        assert kind.recall >= 0.90, kind
        assert kind.fp_rate <= 0.05, kind
        assert kind.asr_defended <= 0.05, kind
    backdoor = next(k for k in result.kinds if k.kind == "backdoor")
    assert backdoor.asr_poisoned > backdoor.asr_defended, "the poison must bite undefended"


def test_poison_kinds_poison_exactly_the_share():
    import numpy as np

    items = [f"x{i}" for i in range(200)]
    y = np.array([i % 2 for i in range(200)])
    for kind in KINDS:
        bad = poison(kind, items, y, 0.05, np.random.default_rng(0), lambda s: s + "!")
        assert bad.poisoned.sum() == 10
        changed = (bad.y != y) | np.array([a != b for a, b in zip(bad.items, items, strict=True)])
        assert (changed == bad.poisoned).all()
        if kind != "flip-random":
            assert (y[bad.poisoned] == 1).all() and (bad.y[bad.poisoned] == 0).all()
    with pytest.raises(ValueError, match="unknown poison"):
        poison("nope", items, y, 0.05, np.random.default_rng(0), str)
