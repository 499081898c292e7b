"""Shipped calibrations and the bundled brand list go through the registry gate (issue 18
item 9): an edited copy is refused at load, the detector reading it does not start and the
hunt says why, and ``garrison models verify`` still reports it.

The shipped folders are copied and the gate pointed at the copies, so the tests edit files
exactly as an attacker with write access to the installed package would, without touching
the package itself.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.core.config import GarrisonConfig
from garrison.core.errors import InputError
from garrison.detect import DETECTORS, DetectorContext
from garrison.detect.ml import calibration
from garrison.detect.ml.lookalike import match
from garrison.govern.registry import check, gate
from garrison.govern.registry.manifest import shipped_folders, stale_message
from garrison.pipeline import HuntReport, HuntService
from garrison.store import MemoryEventStore, StateDB
from tests.models_cli import invoke

CALIBRATED = [("beacon", "ml.beacon"), ("ueba", "ml.ueba")]


@pytest.fixture()
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Copies of the shipped folders, with the gate, ``models verify`` and the loaders
    reading them instead of the package's."""
    models, lookalike = (tmp_path / "pkg" / "models", tmp_path / "pkg" / "lookalike")
    originals = shipped_folders()
    shutil.copytree(originals[0], models)
    shutil.copytree(originals[1], lookalike)
    # the package's own folders stay shipped too (the DGA model is still read from there)
    monkeypatch.setattr(gate, "shipped_folders", lambda: [models, lookalike, *originals])
    monkeypatch.setattr(check, "shipped_folders", lambda: [models, lookalike])
    monkeypatch.setattr(
        calibration, "shipped_path", lambda name: models / f"{name}.calibration.json"
    )
    monkeypatch.setattr(match, "bundled_brands_path", lambda: lookalike / "brands.yml")
    return {"models": models, "lookalike": lookalike}


def _edit_slope(path: Path, factor: float = 3.0) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data["parameters"]["slope"] = data["parameters"]["slope"] * factor + 0.5
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def _verify(home: Path) -> tuple[int, str]:
    return invoke(["models", "verify", "--home", str(home)])


def _ctx(home: Path) -> DetectorContext:
    return DetectorContext(home=home, state=StateDB.memory(), store=MemoryEventStore())


def test_every_shipped_folder_has_a_current_manifest():
    for folder in shipped_folders():
        assert stale_message(folder) is None, stale_message(folder)


def test_untouched_copies_load_and_verify(shipped: dict[str, Path], home: Path):
    for name, _ in CALIBRATED:
        cal, note = calibration.load_calibration(name)
        assert cal is not None and note == ""
    assert match.load_brands().brands
    assert _verify(home)[0] == 0


@pytest.mark.parametrize(("name", "detector"), CALIBRATED)
def test_edited_slope_is_refused_and_the_detector_does_not_start(
    shipped: dict[str, Path], home: Path, name: str, detector: str
):
    path = shipped["models"] / f"{name}.calibration.json"
    _edit_slope(path)
    with pytest.raises(InputError, match=rf"{name}-calibration: .*shipped manifest says"):
        calibration.load_calibration(name)
    with pytest.raises(InputError, match="refusing to load it"):
        DETECTORS.get(detector)(_ctx(home))
    # the option "none" (raw tail figures, said so in every finding) still works
    assert calibration.load_calibration(name, "none")[0] is None
    code, out = _verify(home)
    assert code == 1
    assert f"shipped {name}-calibration: digest-mismatch" in out


def test_hunt_reports_the_refused_calibration_and_runs_the_rest(
    shipped: dict[str, Path], home: Path
):
    _edit_slope(shipped["models"] / "beacon.calibration.json")
    service = HuntService(GarrisonConfig(home=home), MemoryEventStore(), StateDB.memory())
    report = HuntReport()
    built = {d.id for d in service.build_detectors(report)}
    reason = report.detector_errors["ml.beacon"]
    assert reason.startswith("could not start: InputError: model artefact beacon-calibration")
    assert "changed after packaging" in reason
    assert set(report.detector_errors) == {"ml.beacon"}
    assert "ml.beacon" not in built and {"ml.ueba", "ml.dga", "ml.lookalike"} <= built


def test_edited_brand_list_is_refused(shipped: dict[str, Path], home: Path):
    brands = shipped["lookalike"] / "brands.yml"
    brands.write_text(brands.read_text(encoding="utf-8").replace("paypal", "paypa1"), "utf-8")
    with pytest.raises(InputError, match=r"model artefact brands: .*shipped manifest says"):
        match.load_brands()
    with pytest.raises(InputError):
        DETECTORS.get("ml.lookalike")(_ctx(home))
    code, out = _verify(home)
    assert code == 1 and "shipped brands: digest-mismatch" in out


def test_a_calibration_file_dropped_into_the_shipped_folder_is_not_loaded(
    shipped: dict[str, Path],
):
    (shipped["models"] / "ueba.calibration.json").unlink()
    shutil.copy(
        shipped["models"] / "beacon.calibration.json",
        shipped["models"] / "ueba.calibration.json",
    )
    with pytest.raises(InputError, match="ueba-calibration"):
        calibration.load_calibration("ueba")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(position=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255))
def test_any_changed_byte_is_refused(shipped: dict[str, Path], position: int, flip: int):
    path = shipped["models"] / "beacon.calibration.json"
    original = path.read_bytes()
    data = bytearray(original)
    data[position % len(data)] ^= flip
    path.write_bytes(bytes(data))
    try:
        with pytest.raises(InputError, match="beacon-calibration"):
            calibration.load_calibration("beacon")
    finally:
        path.write_bytes(original)
