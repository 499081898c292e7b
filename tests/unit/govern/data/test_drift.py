"""PSI, KS, the classifier two-sample test and the training profile: identical samples of
one population read as stable, a shifted one as drift, and a profile survives JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from garrison.govern.data.drift import (
    DriftThresholds,
    bin_shares,
    ks_statistic,
    psi_from_shares,
    quantile_edges,
    two_sample_auc,
)
from garrison.govern.data.profile import Profile, ProfileError, build_profile, compare

RNG = np.random.default_rng(7)


def test_psi_is_zero_for_equal_shares_and_grows_with_a_shift():
    x = RNG.normal(size=5000)
    edges = quantile_edges(x)
    same = psi_from_shares(bin_shares(x, edges), bin_shares(RNG.normal(size=5000), edges))
    moved = psi_from_shares(bin_shares(x, edges), bin_shares(RNG.normal(1.0, size=5000), edges))
    assert same < 0.02
    assert moved > 0.25


def test_bin_shares_counts_nan_in_a_bin_of_its_own():
    shares = bin_shares(np.array([0.0, 1.0, np.nan, np.nan]), np.array([0.5]))
    assert shares.tolist() == [0.25, 0.25, 0.5]


def test_ks_matches_scipy():
    from scipy.stats import ks_2samp

    a, b = RNG.normal(size=700), RNG.normal(0.3, size=400)
    assert ks_statistic(a, b) == pytest.approx(ks_2samp(a, b).statistic)


def test_two_sample_auc_near_half_on_one_population_and_high_on_two():
    a, b = RNG.normal(size=(600, 4)), RNG.normal(size=(600, 4))
    assert 0.4 < two_sample_auc(a, b) < 0.6
    shifted = b.copy()
    shifted[:, 2] = shifted[:, 2] * 0.2 + shifted[:, 1]  # a joint change, same marginal scale
    assert two_sample_auc(a, shifted) > 0.75


def test_a_profile_round_trips_and_compares_clean_against_itself():
    x = RNG.normal(size=(3000, 3))
    x[::50, 1] = np.nan
    prof = build_profile(x, ("a", "b", "c"), {"model": "t"}, sample_rows=500)
    back = Profile.from_json(json.loads(json.dumps(prof.to_json())))
    assert back.features == ("a", "b", "c") and back.rows == 3000
    np.testing.assert_allclose(back.sample, prof.sample, atol=1e-5)
    report = compare(back, RNG.normal(size=(3000, 3)), ("a", "b", "c"))
    assert report.failures() == [], report


def test_compare_names_the_drifted_feature():
    x = RNG.normal(size=(3000, 3))
    prof = build_profile(x, ("a", "b", "c"))
    new = RNG.normal(size=(3000, 3))
    new[:, 2] += 2.0
    failures = compare(prof, new, ("a", "b", "c"), DriftThresholds()).failures()
    assert any(f.startswith("feature c:") for f in failures)
    assert not any(f.startswith(("feature a:", "feature b:")) for f in failures)
    assert any("two-sample" in f for f in failures)


def test_a_profile_of_other_features_or_garbage_is_refused():
    prof = build_profile(RNG.normal(size=(100, 2)), ("a", "b"))
    with pytest.raises(ProfileError, match="other features"):
        compare(prof, RNG.normal(size=(100, 3)), ("a", "b", "c"))
    for bad in ({}, {"format": "x"}, [], {"format": "garrison-training-profile/1"}):
        with pytest.raises(ProfileError):
            Profile.from_json(bad)
