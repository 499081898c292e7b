"""``garrison models list|verify|register``: exit codes 0 / 1 / 2 as docs/contracts.md states."""

from __future__ import annotations

import shutil
from pathlib import Path

from garrison.govern.registry.manifest import shipped_folder
from tests.models_cli import invoke


def _copy_dga(home: Path) -> Path:
    folder = home / "models"
    folder.mkdir()
    for name in ("dga.skops", "dga.card.json"):
        shutil.copy(shipped_folder() / name, folder / name)
    return folder


def test_verify_passes_on_the_shipped_models(home: Path):
    code, out = invoke(["models", "verify", "--home", str(home)])
    assert code == 0, out
    assert "verified" in out
    assert invoke(["models", "verify", "dga", "--home", str(home)])[0] == 0


def test_list_shows_origin_signer_and_status(home: Path):
    folder = _copy_dga(home)
    assert invoke(["models", "register", "dga", "--dir", str(folder), "--home", str(home)])[0] == 0
    code, out = invoke(["models", "list", "--home", str(home)])
    assert code == 0, out
    assert "shipped" in out and "home" in out and "package manifest" in out
    assert "ed25519:" in out and "b69e9483ad59" in out


def test_verify_fails_after_one_byte_flips_in_a_home_model(home: Path):
    folder = _copy_dga(home)
    code, out = invoke(["models", "verify", "dga", "--home", str(home)])
    assert code == 1 and "unregistered-file" in out
    code, out = invoke(["models", "register", "dga", "--dir", str(folder), "--home", str(home)])
    assert code == 0 and "registered dga" in out
    assert invoke(["models", "verify", "dga", "--home", str(home)])[0] == 0
    data = bytearray((folder / "dga.skops").read_bytes())
    data[4096] ^= 0x01
    (folder / "dga.skops").write_bytes(bytes(data))
    code, out = invoke(["models", "verify", "--home", str(home)])
    assert code == 1
    assert "FAIL home dga" in out and "digest-mismatch" in out and "dga.skops" in out


def test_usage_errors_exit_2(home: Path, tmp_path: Path):
    assert invoke(["models", "verify", "nope", "--home", str(home)])[0] == 2
    code, out = invoke(
        ["models", "register", "dga", "--dir", str(tmp_path / "no"), "--home", str(home)]
    )
    assert code == 2 and "not a folder" in out
    code, out = invoke(["models", "register", "dga", "--dir", str(tmp_path), "--home", str(home)])
    assert code == 2 and "no files of model 'dga'" in out
