"""The release signature over the shipped manifests (issue 13): editing a model, its card
and MANIFEST.json together no longer passes; another key, another folder's signature or a
signature file written another way are refused; the private key stays out of the repo."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from garrison.core.errors import InputError
from garrison.govern.registry.check import verify_all
from garrison.govern.registry.gate import read_verified
from garrison.govern.registry.keys import key_id
from garrison.govern.registry.manifest import package_folder, shipped_folder, write_manifest
from garrison.govern.registry.release import (
    SIGNATURE,
    public_pem,
    release_key_id,
    release_key_path,
    sign_folder,
    verified_manifest_bytes,
)

REPO = Path(__file__).resolve().parents[4]


@pytest.fixture()
def models(tmp_path: Path) -> Path:
    """A byte-for-byte copy of the shipped models folder (still release-signed)."""
    return Path(shutil.copytree(shipped_folder(), tmp_path / "models"))


def _load(path: Path, folder: Path, home: Path) -> bytes:
    return read_verified(path, home, shipped=[folder])[0]


def test_the_shipped_manifests_verify(home: Path) -> None:
    for pkg, sub in (("garrison.detect.ml", "models"), ("garrison.content", "lookalike")):
        assert verified_manifest_bytes(package_folder(pkg) / sub, release_key_path())
    assert release_key_id().startswith("ed25519:")
    kinds = {p.kind for p in verify_all(home).problems}
    assert "manifest-unsigned" not in kinds and "manifest-invalid" not in kinds


def test_model_card_and_manifest_edited_together_are_refused(models: Path, home: Path) -> None:
    assert _load(models / "dga.skops", models, home)  # the clean copy loads
    card = json.loads((models / "dga.card.json").read_text())
    card["threshold"] = 0.01
    (models / "dga.card.json").write_text(json.dumps(card))
    write_manifest(models)  # the attacker refreshes the digests too
    with pytest.raises(InputError, match="does not match its release signature"):
        _load(models / "dga.skops", models, home)
    problems = verify_all(home, folder=models).problems
    assert [p.kind for p in problems] == ["manifest-unsigned"]


def test_another_key_is_refused(models: Path, home: Path) -> None:
    sign_folder(models, Ed25519PrivateKey.generate())
    with pytest.raises(InputError, match="not the release key"):
        _load(models / "url.skops", models, home)
    body = json.loads((models / SIGNATURE).read_text())
    body["key"] = release_key_id()  # claims the release key: the signature still fails
    (models / SIGNATURE).write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
    with pytest.raises(InputError, match="does not match its release signature"):
        _load(models / "url.skops", models, home)


def test_a_throwaway_key_round_trips(models: Path, tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    pub = tmp_path / "release-key.pub"
    pub.write_bytes(public_pem(private.public_key()))
    sign_folder(models, private)
    assert verified_manifest_bytes(models, pub) == (models / "MANIFEST.json").read_bytes()
    assert json.loads((models / SIGNATURE).read_text())["key"] == key_id(private.public_key())


def test_another_folders_signature_and_odd_forms_are_refused(models: Path, home: Path) -> None:
    lookalike = package_folder("garrison.content") / "lookalike"
    original = (models / SIGNATURE).read_text()
    shutil.copyfile(lookalike / SIGNATURE, models / SIGNATURE)
    with pytest.raises(InputError, match="does not match its release signature"):
        _load(models / "email.skops", models, home)
    body = json.loads(original)
    (models / SIGNATURE).write_text(original.replace(body["signature"], body["signature"].upper()))
    with pytest.raises(InputError, match="canonical form"):
        _load(models / "email.skops", models, home)
    (models / SIGNATURE).unlink()
    with pytest.raises(InputError, match="unsigned"):
        _load(models / "email.skops", models, home)


def test_an_added_or_renamed_file_of_the_artefact_is_refused(models: Path, home: Path) -> None:
    (models / "dga.skops.orig").write_bytes(b"x")
    with pytest.raises(InputError, match="added or renamed"):
        _load(models / "dga.skops", models, home)
    (models / "dga.skops.orig").unlink()
    (models / "dga.card.json").rename(models / "dga.card.old")
    with pytest.raises(InputError, match=r"dga.card.json is missing"):
        _load(models / "dga.skops", models, home)


def _script():
    spec = importlib.util.spec_from_file_location(
        "sign_shipped", REPO / "scripts" / "sign_shipped_models.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sign_shipped"] = module
    spec.loader.exec_module(module)
    return module


def test_the_script_keeps_the_key_out_of_the_repo(tmp_path: Path) -> None:
    script = _script()
    assert script.main(["--check"]) == 0
    if script._repo_root() is not None:  # a git checkout: a key inside it is refused
        assert script.main(["--new-key", str(REPO / "release-key.pem")]) == 2
        assert not (REPO / "release-key.pem").exists()
    loose = tmp_path / "key.pem"
    script.new_key(loose)
    assert loose.stat().st_mode & 0o777 == 0o600
    loose.chmod(0o644)
    assert script.main(["--key", str(loose)]) == 2
    assert script.main([]) == 2  # no key given
    tracked = {p.name for p in REPO.glob("**/*.pem") if ".venv" not in p.parts}
    assert tracked == set()
