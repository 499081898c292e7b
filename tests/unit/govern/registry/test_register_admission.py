"""``garrison models register`` signs skops and JSON files only, scanned first (issue 18
item 13, issue 13): a real malicious pickle (``os.system`` through ``__reduce__``) is
refused with exit 2 without ever being unpickled, a skops file holding ``posix.system``
fails the scan with exit 1, and neither leaves a registry entry."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import pytest
import skops.io as sio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.govern.registry.admit import NotAdmitted, UnsafeModel, check_file
from garrison.govern.registry.manifest import shipped_folder
from garrison.govern.registry.store import HomeRegistry
from tests.models_cli import invoke


class _Payload:
    """Unpickling this runs ``os.system(command)``: a real malicious pickle."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (self.command,))


def _entries(home: Path) -> list[str]:
    with HomeRegistry.open(home, create=False) as registry:
        return [f"{e.name} {e.version}" for e in registry.entries()] if registry else []


def _card(folder: Path, name: str, version: str) -> None:
    (folder / f"{name}.card.json").write_text(json.dumps({"name": name, "version": version}))


@pytest.fixture()
def marker(tmp_path: Path) -> Path:
    return tmp_path / "PWNED"


def test_pickle_named_skops_is_refused_and_never_run(home: Path, tmp_path: Path, marker: Path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "url.skops").write_bytes(pickle.dumps(_Payload(f"touch {marker}")))
    _card(folder, "url", "url-evil")
    code, out = invoke(["models", "register", "url", "--dir", str(folder), "--home", str(home)])
    assert code == 2, out
    assert "a pickle" in out and "refusing to sign it" in out
    assert len(str(out).strip().splitlines()) == 1
    assert not marker.exists() and _entries(home) == []


def test_pickle_beside_the_model_is_refused(home: Path, tmp_path: Path, marker: Path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "evil.pkl").write_bytes(pickle.dumps(_Payload(f"touch {marker}")))
    code, out = invoke(["models", "register", "evil", "--dir", str(folder), "--home", str(home)])
    assert code == 2 and "evil.pkl" in out and "pickle" in out
    assert not marker.exists() and _entries(home) == []


def test_pickle_as_card_or_calibration_is_refused(home: Path, tmp_path: Path, marker: Path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "beacon.calibration.json").write_bytes(pickle.dumps(_Payload(f"touch {marker}")))
    args = ["models", "register", "beacon-calibration", "--dir", str(folder)]
    code, out = invoke([*args, "--home", str(home)])
    assert code == 2 and "not valid JSON" in out
    assert not marker.exists() and _entries(home) == []


def test_skops_holding_posix_system_fails_the_scan(home: Path, tmp_path: Path):
    folder = tmp_path / "m"
    folder.mkdir()
    sio.dump({"format": "garrison-url/1", "hook": os.system}, folder / "url.skops")
    assert "posix.system" in sio.get_untrusted_types(file=folder / "url.skops")
    _card(folder, "url", "url-evil")
    code, out = invoke(["models", "register", "url", "--dir", str(folder), "--home", str(home)])
    assert code == 1, out
    assert "posix.system" in out and "allowlist" in out
    assert _entries(home) == []


def test_allowlist_is_the_models_own(tmp_path: Path):
    """The DGA model's tree predictor is on its allowlist, not on the URL model's."""
    dga = shipped_folder() / "dga.skops"
    check_file(dga, ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"])
    with pytest.raises(UnsafeModel, match="TreePredictor"):
        check_file(dga, [])


@pytest.mark.parametrize("name", ["dga", "url", "email"])
def test_shipped_models_are_admitted(home: Path, tmp_path: Path, name: str):
    folder = tmp_path / "m"
    folder.mkdir()
    for file_name in (f"{name}.skops", f"{name}.card.json"):
        shutil.copy(shipped_folder() / file_name, folder / file_name)
    code, out = invoke(["models", "register", name, "--dir", str(folder), "--home", str(home)])
    assert code == 0, out
    assert len(_entries(home)) == 1


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    blob=st.one_of(
        st.binary(max_size=400),
        st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b),
        st.binary(max_size=200).map(lambda b: b"\x80\x04" + b),
    )
)
def test_arbitrary_bytes_are_never_signed(tmp_path: Path, blob: bytes):
    path = tmp_path / "url.skops"
    path.write_bytes(blob)
    with pytest.raises((NotAdmitted, UnsafeModel)):
        check_file(path, [])
