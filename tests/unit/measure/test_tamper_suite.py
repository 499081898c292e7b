"""The tamper suite, bounded (issue 13): 50 random bit flips, every variant of every other
kind once, 50 clean loads, all through the loader's real check. The full suite is
``python bench/bench_tamper.py`` (1,000 flips, 1,000 clean loads)."""

from __future__ import annotations

import random
from pathlib import Path

from garrison.measure.ml_eval.tamper import KINDS, PRODUCTION, Lab, bit_flip, run


def test_every_tamper_is_refused_and_no_clean_load_is(tmp_path: Path) -> None:
    report = run(tmp_path, flips=50, rounds=1, clean=50, seed=7)
    data = report.as_json()
    assert set(data["kinds"]) == set(KINDS)
    for kind, tally in data["kinds"].items():
        assert tally["trials"] >= (50 if kind == "bit-flip" else 4), kind
        assert tally["refused"] == tally["trials"], (kind, tally["missed"])
    assert data["clean_loads"] == 50 and data["false_refusals"] == 0, data
    assert report.ok


def test_the_harness_sees_a_load_that_gets_through(tmp_path: Path) -> None:
    """A change the check does not cover (a file of another artefact) loads, and the lab is
    restored after every trial: the suite can tell a refusal from an acceptance."""
    lab = Lab(tmp_path)
    lab.write(lab.shipped / "url.card.json", b"{}\n")
    assert lab.load("shipped:dga") is None  # dga does not depend on url's card
    assert lab.load("shipped:url") is not None
    lab.restore()
    assert lab.load("shipped:url") is None
    target = bit_flip(lab, random.Random(1))
    assert lab.load(target) is not None
    lab.restore()
    assert lab.load(PRODUCTION) is None and lab.load(target) is None
