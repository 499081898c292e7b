"""How ml.beacon and ml.ueba turn their tail figures into a reported confidence: the shipped
calibration by default, a calibration file given by the ``calibration`` option, or the raw
tail figure ("none" or an unusable file) -- always saying which it is."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from garrison.detect.ml.beacon import BeaconConfig, BeaconDetector
from garrison.detect.ml.calibration import Calibration
from garrison.detect.ml.ueba import UebaConfig, UebaDetector
from tests.unit.detect.ml.test_beacon import periodic
from tests.unit.detect.ml.test_ueba import T0, ssh


def _beacon(calibration: str = ""):
    det = BeaconDetector(BeaconConfig(calibration=calibration))
    det.observe(periodic(200, 60, jitter_s=2.0))
    (finding,) = det.finish()
    return det, finding


def _ueba(calibration: str = ""):
    events = [
        ssh(T0 + i * 5_000, f"Failed password for root from 1.2.3.4 port {i} ssh2")
        for i in range(30)
    ]
    det = UebaDetector(UebaConfig(calibration=calibration))
    det.observe(events)
    (finding,) = [f for f in det.finish() if f.analytic_uid == "ml.ueba.bruteforce"]
    return det, finding


def _write(tmp_path: Path, name: str, slope: float, intercept: float, **offsets: float) -> str:
    path = tmp_path / f"{name}.calibration.json"
    Calibration(name, "identity", slope, intercept, dict(offsets)).save(path)
    return str(path)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_beacon_shipped_calibration_states_both_figures():
    det, f = _beacon()
    ex = f.explanation
    assert f.confidence == round(100 * ex["confidence"])
    assert ex["confidence_basis"].startswith("P(C2 | beacon score)")
    assert ex["tail_confidence"] == pytest.approx(1 - ex["p_value_random_timing"], abs=1e-6)
    assert "not a probability of C2" in ex["tail_confidence_basis"]
    assert det.stats()["calibration"] == "beacon"


def test_beacon_given_calibration_file_and_none(tmp_path):
    _, f = _beacon(_write(tmp_path, "beacon", 0.0, _logit(0.3)))
    assert f.confidence == 30 and f.explanation["calibration"]["calibration"] == "beacon"
    det, raw = _beacon("none")
    assert raw.confidence == round(100 * raw.explanation["tail_confidence"])
    assert raw.explanation["calibration"] is None
    assert "disabled" in raw.explanation["confidence_basis"]
    assert "disabled" in det.stats()["calibration"]


def test_beacon_unusable_calibration_file_falls_back(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "garrison-calibration/1"}', encoding="utf-8")
    det, f = _beacon(str(bad))
    assert f.confidence == round(100 * f.explanation["tail_confidence"])
    assert f.explanation["confidence_basis"].startswith("uncalibrated")
    assert det.stats()["calibration"].startswith("uncalibrated")


def test_ueba_calibration_per_analytic(tmp_path):
    path = _write(tmp_path, "ueba", 0.0, _logit(0.5), bruteforce=_logit(0.8) - _logit(0.5))
    _, f = _ueba(path)
    assert f.confidence == 80
    assert f.explanation["tail_confidence"] >= 0.99
    assert f.explanation["confidence_basis"].startswith("P(malicious | analytic")
    _, raw = _ueba("none")
    assert raw.confidence == round(100 * raw.explanation["tail_confidence"])
    assert "Poisson" in raw.explanation["confidence_basis"]


def test_ueba_shipped_calibration_is_used_by_default():
    det, f = _ueba()
    assert det.stats()["calibration"] == "ueba"
    assert f.explanation["calibration"]["calibration"] == "ueba"
    assert 0 < f.confidence < 100
