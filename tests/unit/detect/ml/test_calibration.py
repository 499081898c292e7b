"""Label calibration (``detect.ml.calibration``): fitting, monotonicity, the slope bound,
leave-one-capture-out isolation, quality figures, the JSON format and the shipped files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.detect.ml.calibration import (
    RECIPES,
    Calibration,
    Labelled,
    assess,
    fit,
    leave_one_out,
    load_calibration,
    loco_base_rate,
    quality,
    shipped_path,
)


def _logistic(n: int, slope: float, intercept: float, seed: int = 0) -> list[Labelled]:
    rng = np.random.default_rng(seed)
    scores = rng.uniform(0, 1, n)
    p = 1 / (1 + np.exp(-(slope * scores + intercept)))
    labels = (rng.random(n) < p).astype(int)
    return [
        Labelled(f"c{i % 4}", float(s), int(y))
        for i, (s, y) in enumerate(zip(scores, labels, strict=True))
    ]


def test_recovers_a_known_logistic_mapping():
    cal = fit(_logistic(20_000, 6.0, -4.0), "t")
    assert cal.slope == pytest.approx(6.0, abs=0.4)
    assert cal.intercept == pytest.approx(-4.0, abs=0.3)


def test_anti_correlated_score_gives_the_base_rate_not_a_decreasing_map():
    records = [Labelled("a", s, int(s < 0.5)) for s in np.linspace(0, 1, 200)]
    cal = fit(records, "t")
    assert cal.slope == 0.0
    probs = cal.probabilities([0.0, 0.5, 1.0])
    assert np.allclose(probs, probs[0])
    assert probs[0] == pytest.approx((100 + 1) / (200 + 2), abs=1e-3)  # Platt's targets


def test_separable_tiny_data_stays_finite():
    records = [Labelled("a", 0.9, 1), Labelled("a", 0.95, 1), Labelled("b", 0.1, 0)]
    cal = fit(records, "t", transform="logit")
    assert math.isfinite(cal.slope) and math.isfinite(cal.intercept)
    p = cal.probabilities([0.0, 1.0])
    assert 0.0 < p[0] < p[1] < 1.0


def test_group_offsets_are_shrunk_toward_the_pooled_fit():
    big = [Labelled("a", 0.5, int(i % 2 == 0), "big") for i in range(400)]
    small = [Labelled("a", 0.5, 1, "small")]  # one record: must not jump to certainty
    cal = fit(big + small, "t", grouped=True, shrinkage=1.0)
    p_big, p_small = cal.probabilities([0.5, 0.5], ["big", "small"])
    assert p_small > p_big
    assert p_small < 0.8
    assert cal.probability(0.5, "never-seen") == pytest.approx(
        float(cal.probabilities([0.5], [""])[0])
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 1), st.sampled_from(["x", "y"])),
        min_size=1,
        max_size=40,
    )
)
def test_monotone_in_the_score_within_each_group(rows):
    records = [Labelled("c", s, y, g) for s, y, g in rows]
    cal = fit(records, "t", transform="logit", grouped=True)
    grid = np.linspace(0, 1, 21)
    for group in ("x", "y"):
        p = cal.probabilities(grid, [group] * len(grid))
        assert np.all(np.diff(p) >= -1e-12)
        assert np.all((p > 0) & (p < 1))


def test_leave_one_out_never_sees_the_held_out_labels():
    records = _logistic(400, 5.0, -2.5, seed=3)
    flipped = [
        Labelled(r.capture, r.score, 1 - r.label) if r.capture == "c0" else r for r in records
    ]
    a = leave_one_out(records, lambda rest: fit(rest, "t"))
    b = leave_one_out(flipped, lambda rest: fit(rest, "t"))
    held = [i for i, r in enumerate(records) if r.capture == "c0"]
    other = [i for i, r in enumerate(records) if r.capture != "c0"]
    np.testing.assert_allclose(a[held], b[held])  # its own labels changed nothing
    assert not np.allclose(a[other], b[other])  # ... but they moved the others' fits


def test_loco_base_rate_uses_the_other_captures_only():
    records = [Labelled("a", 0.1, 1)] * 3 + [Labelled("b", 0.1, 0)] * 5
    rates = loco_base_rate(records)
    assert rates[0] == pytest.approx(1 / 7)  # (0 + 1) / (5 + 2)
    assert rates[-1] == pytest.approx(4 / 5)  # (3 + 1) / (3 + 2)


def test_quality_figures():
    perfect = quality([0.0, 1.0, 1.0], [0, 1, 1])
    assert perfect["brier"] == 0.0 and perfect["expected_calibration_error"] == 0.0
    q = quality([0.05, 0.15, 0.95, 0.95], [0, 0, 1, 0])
    assert q["brier"] == pytest.approx((0.05**2 + 0.15**2 + 0.05**2 + 0.95**2) / 4, abs=1e-5)
    assert sum(b["count"] for b in q["reliability"]) == 4
    top = q["reliability"][-1]
    assert top["bin"] == "0.9-1.0" and top["count"] == 2 and top["observed_rate"] == 0.5
    assert q["brier_base_rate"] == pytest.approx(0.1875)
    assert quality([], []) == {"records": 0}


def test_assess_reports_the_protocol_and_a_transfer_note():
    records = _logistic(600, 8.0, -4.0, seed=1)
    report = assess(records, RECIPES["beacon"], "t")
    assert report["records"] == 600 and report["positives"] == sum(r.label for r in records)
    assert set(report["per_held_out_capture"]) == {"c0", "c1", "c2", "c3"}
    assert report["leave_one_capture_out"]["brier"] < report["leave_one_capture_out_no_skill_brier"]
    assert report["transfer_note"] == ""  # the mapping transfers: the captures are alike


def test_json_round_trip_and_refusals(tmp_path):
    cal = Calibration("t", "logit", 1.5, -0.5, {"a": 0.25}, {"fitted_on": {"positives": 3}})
    path = tmp_path / "t.calibration.json"
    cal.save(path)
    again = Calibration.load(path)
    assert again.to_json() == cal.to_json()
    assert again.probability(0.7, "a") == pytest.approx(cal.probability(0.7, "a"))
    good = cal.to_json()
    for bad in (
        {**good, "format": "other"},
        {**good, "transform": "exp"},
        {**good, "parameters": {"slope": float("nan"), "intercept": 0.0}},
        {**good, "parameters": {"slope": "1", "intercept": 0.0}},
        {**good, "parameters": {"slope": 1.0, "intercept": 0.0, "offsets": [1]}},
        [],
    ):
        with pytest.raises(ValueError):
            Calibration.from_json(bad)


def test_non_finite_scores_have_a_defined_probability():
    for cal in (Calibration("t", "logit", 2.0, 0.0), Calibration("t", "identity", 0.0, 0.3)):
        for score in (float("nan"), float("inf"), -float("inf"), -1.0, 2.0):
            assert 0.0 < cal.probability(score) < 1.0


def test_loading_falls_back_with_a_reason(tmp_path):
    assert load_calibration("beacon", "none") == (
        None,
        "calibration disabled by the detector option",
    )
    missing, note = load_calibration("beacon", str(tmp_path / "nope.json"))
    assert missing is None and note.startswith("uncalibrated")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert load_calibration("beacon", str(broken))[0] is None


@pytest.mark.parametrize("name", ["beacon", "ueba"])
def test_shipped_calibrations_load_and_describe_their_data(name):
    cal, note = load_calibration(name)
    assert cal is not None, note
    raw = json.loads(shipped_path(name).read_text(encoding="utf-8"))
    fitted = raw["fitted_on"]
    assert len(fitted["fingerprint_sha256"]) == 64 and fitted["files"]
    assert fitted["positives"] == sum(c["positives"] for c in fitted["per_capture"].values())
    assert fitted["records"] == sum(c["records"] for c in fitted["per_capture"].values())
    assert raw["evaluation"]["leave_one_capture_out"]["brier"] is not None
    assert raw["created_by"].startswith(f"garrison models train {name}-calibration")
    summary = cal.summary()
    assert summary["positives"] == fitted["positives"] and summary["calibration"] == name
    if fitted["positives"] < 30:
        assert any("positives" in w for w in raw["warnings"])
