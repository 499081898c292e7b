"""The home's signed model registry: keys, immutability, signatures, downgrades, the gate."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from garrison.core.errors import InputError
from garrison.detect.ml.dga.model import load_model, shipped_model_path
from garrison.govern.registry.check import verify_all
from garrison.govern.registry.gate import verify_model_file
from garrison.govern.registry.keys import (
    KEY_DIR,
    KEY_FILE,
    PUB_FILE,
    TRUSTED_DIR,
    load_signing_key,
    signing_key,
    trusted_keys,
)
from garrison.govern.registry.store import HomeRegistry, RegistryConflict, register_model
from garrison.store.state import StateDB


def _write_model(folder: Path, version: str, payload: bytes = b"weights") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "url.skops").write_bytes(payload * 50)
    (folder / "url.card.json").write_text(json.dumps({"name": "url", "version": version}))


def _home_problems(home: Path) -> set[tuple[str, str]]:
    return {(p.kind, p.name) for p in verify_all(home).problems if p.origin == "home"}


def test_key_is_created_private_and_reused(home: Path):
    key = signing_key(home)
    path = home / KEY_DIR / KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert (home / KEY_DIR).stat().st_mode & 0o777 == 0o700
    assert (home / KEY_DIR / PUB_FILE).is_file()
    assert signing_key(home).id == key.id and key.id.startswith("ed25519:")
    pem = path.read_text()
    assert pem.splitlines()[1] not in repr(key)  # no key material in its repr


def test_key_readable_by_others_is_refused(home: Path):
    signing_key(home)
    path = home / KEY_DIR / KEY_FILE
    path.chmod(0o644)
    with pytest.raises(InputError, match=r"accessible to group/others \(mode 0644\)"):
        load_signing_key(home)
    path.chmod(0o600)
    (home / KEY_DIR).chmod(0o777)
    with pytest.raises(InputError, match="writable by group/others"):
        signing_key(home)
    (home / KEY_DIR).chmod(0o700)
    assert load_signing_key(home) is not None


def test_register_signs_and_same_digests_are_a_no_op(home: Path, tmp_path: Path):
    folder = home / "models"
    _write_model(folder, "url-1")
    entry, new = register_model(home, folder, "url")
    assert new and entry.version == "url-1" and set(entry.files) == {"url.skops", "url.card.json"}
    assert entry.card_sha256 == entry.files["url.card.json"]
    again, new_again = register_model(home, folder, "url")
    assert not new_again and again == entry
    assert _home_problems(home) == set()
    verify_model_file(folder / "url.skops", home)


def test_same_version_with_other_digests_is_refused(home: Path):
    folder = home / "models"
    _write_model(folder, "url-1")
    register_model(home, folder, "url")
    _write_model(folder, "url-1", payload=b"other weights")
    with pytest.raises(RegistryConflict, match="already registered with other digests"):
        register_model(home, folder, "url")
    with pytest.raises(InputError, match="changed after registration"):
        verify_model_file(folder / "url.skops", home)
    _write_model(folder, "url-2", payload=b"other weights")  # a new version is a new entry
    entry, new = register_model(home, folder, "url")
    assert new and entry.version == "url-2"
    with HomeRegistry.open(home) as registry:
        assert registry is not None
        assert [e.version for e in registry.entries()] == ["url-1", "url-2"]


def test_rows_cannot_be_updated_or_deleted(home: Path):
    _write_model(home / "models", "url-1")
    register_model(home, home / "models", "url")
    db = StateDB(home / "state.db")
    for sql in (
        "UPDATE model_registry SET files = '{}'",
        "DELETE FROM model_registry",
        "DELETE FROM model_placements",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="immutable"):
            db.execute(sql)
    db.close()


def test_tampered_row_is_a_bad_signature(home: Path):
    _write_model(home / "models", "url-1")
    register_model(home, home / "models", "url")
    db = StateDB(home / "state.db")  # an attacker with write access drops the guard
    db.execute("DROP TRIGGER model_registry_no_update")
    db.execute("UPDATE model_registry SET version = 'url-9'")
    db.close()
    assert ("bad-signature", "url") in _home_problems(home)
    with pytest.raises(InputError, match=r"matches no signed entry|changed after"):
        verify_model_file(home / "models" / "url.skops", home)


def test_entry_signed_by_another_key(home: Path, tmp_path: Path):
    _write_model(home / "models", "url-1")
    register_model(home, home / "models", "url")
    shutil.rmtree(home / KEY_DIR)
    signing_key(home)  # a new key: the old signatures are by an unknown signer now
    assert ("unknown-signer", "url") in _home_problems(home)
    with pytest.raises(InputError, match="matches no signed entry"):
        verify_model_file(home / "models" / "url.skops", home)


def test_foreign_key_is_trusted_only_when_its_public_key_is_installed(tmp_path: Path):
    a, b = tmp_path / "a", tmp_path / "b"
    _write_model(a / "models", "url-1")
    register_model(a, a / "models", "url")
    signing_key(b)
    shutil.copy(a / "state.db", b / "state.db")
    _write_model(b / "models", "url-1")
    assert ("unknown-signer", "url") in _home_problems(b)
    (b / KEY_DIR / TRUSTED_DIR).mkdir()
    shutil.copy(a / KEY_DIR / PUB_FILE, b / KEY_DIR / TRUSTED_DIR / "a.pub")
    assert signing_key(a).id in trusted_keys(b)
    verify_model_file(b / "models" / "url.skops", b)


def test_older_signed_version_put_back_is_a_downgrade(home: Path, tmp_path: Path):
    folder = home / "models"
    _write_model(folder, "url-1")
    register_model(home, folder, "url")
    old = tmp_path / "old"
    shutil.copytree(folder, old)
    _write_model(folder, "url-2", payload=b"new weights")
    register_model(home, folder, "url")
    for name in ("url.skops", "url.card.json"):
        shutil.copy(old / name, folder / name)
    with pytest.raises(InputError, match="downgrade"):
        verify_model_file(folder / "url.skops", home)
    assert ("digest-mismatch", "url") in _home_problems(home)
    verify_model_file(old / "url.skops", home)  # the old version elsewhere is still valid


def test_missing_and_unregistered_home_files(home: Path, tmp_path: Path):
    folder = home / "models"
    _write_model(folder, "url-1")
    register_model(home, folder, "url")
    (folder / "url.card.json").unlink()
    (folder / "email.skops").write_bytes(b"unknown")
    problems = _home_problems(home)
    assert ("missing-file", "url") in problems and ("unregistered-file", "email") in problems
    outside = tmp_path / "out"
    _write_model(outside, "url-3", payload=b"third")
    register_model(home, outside, "url")
    shutil.rmtree(outside)  # a deleted --out folder outside the home is no failure
    assert not any(p.version == "url-3" for p in verify_all(home).problems)


def test_dga_loader_refuses_a_tampered_home_copy(home: Path):
    folder = home / "models"
    folder.mkdir()
    shutil.copy(shipped_model_path(), folder / "dga.skops")
    shutil.copy(shipped_model_path().with_name("dga.card.json"), folder / "dga.card.json")
    with pytest.raises(InputError, match=r"model artefact dga: .*matches no signed entry"):
        load_model(folder / "dga.skops", home)
    register_model(home, folder, "dga")
    assert load_model(folder / "dga.skops", home).version.startswith("dga-")
    data = bytearray((folder / "dga.skops").read_bytes())
    data[len(data) // 2] ^= 0x01
    (folder / "dga.skops").write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"model artefact dga: .*changed after registration"):
        load_model(folder / "dga.skops", home)
