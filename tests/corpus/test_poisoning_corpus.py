"""The poisoning defence, bounded: a small sample of the phishing-URL corpus (3,000 URLs per
approved / new / test part at most; 1,500 in the new set), 5 % of the new training set
poisoned three ways (random flips, targeted flips, an ART backdoor).

At this size the approved model, the defence's reference, is trained on ~3,000 URLs and
is weaker than at full size, so the bounds here are looser than issue 13's figures
(>= 90 % found, <= 5 % false positives, ASR <= 5 % after the defence), which
``bench/bench_poisoning.py`` measures on the full corpus: found >= 75 %, false positives
<= 6 %, and the attack success rate after the defence <= 5 % while the undefended model's
is over 50 %. A defence that stopped working fails every one of these."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from garrison.detect.ml.url.train import TrainParams
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
@pytest.mark.slow
def test_the_defence_finds_the_poison_and_holds_the_attack(corpus: Path, tmp_path: Path):
    params = replace(TrainParams(), bits=16, c=1.0)  # the recipe, smaller and faster
    folder = _sample(corpus, tmp_path / "urls", 4500)
    subject = UrlSubject(folder, rows=1500, approved_rows=3000, params=params)
    result = evaluate(subject, KINDS, share=0.05, seed=0)
    assert result.clean_flagged <= 0.06, "the check flags clean data (ART issue #1188)"
    for kind in result.kinds:
        assert kind.poisoned_rows == round(0.05 * kind.rows)
        assert kind.recall >= 0.75, kind
        assert kind.fp_rate <= 0.06, kind
        assert kind.asr_poisoned >= 0.15, f"the poison must bite undefended: {kind}"
        assert kind.asr_defended <= 0.05, kind
    backdoor = next(k for k in result.kinds if k.kind == "backdoor")
    assert backdoor.recall >= 0.95 and backdoor.asr_poisoned >= 0.5, backdoor


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
