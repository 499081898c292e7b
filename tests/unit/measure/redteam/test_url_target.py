"""The URL target's pieces that need no corpus: adversarial training of a linear model and
the realisability projection."""

from __future__ import annotations

import numpy as np

from garrison.measure.redteam.targets.url import CONTROLLED, FEATURES, realise, robust_logistic


def test_adversarial_training_moves_weight_off_the_controlled_features() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.5).astype(np.int64)
    u = rng.random((2000, 3)) * 0.5 + y[:, None] * np.array([0.3, 0.3, 0.2])
    controlled = np.array([True, True, False])
    w0, _ = robust_logistic(u, y, controlled, 0.0)
    w1, _ = robust_logistic(u, y, controlled, 0.2)
    share = [abs(w[2]) / np.abs(w).sum() for w in (w0, w1)]
    assert share[1] > share[0]  # leans more on what the attacker cannot change
    assert np.all(w0 > 0) and np.all(w1 > 0)


def test_realise_rounds_counts_and_refuses_a_changed_registered_domain() -> None:
    idx = {f: i for i, f in enumerate(FEATURES)}
    orig = np.zeros((2, len(FEATURES)))
    orig[:, idx["host_length"]] = np.log1p(20)
    orig[:, idx["url_length"]] = np.log1p(60)
    orig[:, idx["path_length"]] = np.log1p(10)
    orig[:, idx["host_labels"]] = 3
    orig[:, idx["subdomain_depth"]] = 1
    adv = orig.copy()
    adv[:, idx["path_depth"]] = 1.4
    adv[1, idx["host_labels"]] = 4  # one more label, no deeper subdomain: another domain
    lo, hi = np.full(len(FEATURES), -50.0), np.full(len(FEATURES), 50.0)
    x, ok = realise(orig, adv, lo, hi)
    assert x[0, idx["path_depth"]] == 1.0
    assert ok.tolist() == [True, False]
    assert not CONTROLLED[idx["tld_free"]] and CONTROLLED[idx["path_length"]]
