"""``garrison models redteam dga`` on the corpus, bounded (12 points, 300 queries each).

Holds issue 13's evasion bar on a small sample: HopSkipJump, restricted to the features
the DGA author controls, defeats the undefended model on every point, and against the
defended model needs at least twice the median L2, with at most one point of clean
accuracy lost. Fails if the defence stops helping (the bar is computed, not asserted
blindly: ``done`` is False whenever either half fails). The sample is the full one (1,500
names per family): on a few hundred per family the trees, and the figures, are too coarse
to be stable. The full figures come from ``python bench/bench_evasion.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.models_cli import invoke

pytestmark = pytest.mark.corpus


def test_defended_dga_model_doubles_the_perturbation_hop_skip_jump_needs(corpus: Path) -> None:
    code, out = invoke(
        ["models", "redteam", "dga", "--attacks", "hop_skip_jump", "--points", "12",
         "--budget", "300", "--per-group", "1500", "--seed", "7", "--json",
         "--corpus", str(corpus)]
    )  # fmt: skip
    assert code == 0, out
    report = json.loads(out)
    (result,) = report["attacks"]
    undefended, defended = result["undefended"], result["defended"]
    assert undefended["success_rate"] == 1.0
    assert undefended["points"] == 12 and undefended["queries_per_point"] <= 300
    assert result["needed_l2_ratio"] >= 2.0, result
    assert undefended["clean"]["accuracy"] - defended["clean"]["accuracy"] <= 0.01
    assert result["done"] is True
    assert 0.0 <= undefended["realisable_rate"] <= 1.0
