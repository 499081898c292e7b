"""The shipped-model manifest: built from the folder, checked against it, kept current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from garrison.core.errors import InputError
from garrison.govern.registry import gate
from garrison.govern.registry.artifacts import artifact_name, scan_folder, sha256_file
from garrison.govern.registry.manifest import (
    REFRESH_COMMAND,
    build_manifest,
    check_folder,
    main,
    shipped_folder,
    stale_message,
    write_manifest,
)


def _flip(path: Path, at: int = 10) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture()
def models(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "dga.skops").write_bytes(b"PK\x03\x04 model bytes " * 20)
    card = {"name": "dga", "version": "dga-111", "sha256": sha256_file(folder / "dga.skops")}
    (folder / "dga.card.json").write_text(json.dumps(card))
    (folder / "beacon.calibration.json").write_text('{"format": "garrison-calibration/1"}')
    write_manifest(folder)
    return folder


def test_shipped_manifest_matches_the_shipped_files():
    problem = stale_message(shipped_folder())
    assert problem is None, problem
    listed, problems = check_folder(shipped_folder())
    assert problems == [], [str(p) for p in problems]
    assert "dga" in listed and "dga.skops" in listed["dga"].files


def test_naming_rule():
    assert artifact_name("dga.skops") == artifact_name("dga.card.json") == "dga"
    assert artifact_name("ueba.calibration.json") == "ueba-calibration"
    assert artifact_name("stray.bin") == "stray"


def test_build_lists_every_file_with_its_digest_and_version(models: Path):
    manifest = build_manifest(models)
    arts = manifest["artifacts"]
    assert set(arts) == {"dga", "beacon-calibration"}
    assert arts["dga"]["version"] == "dga-111"
    assert arts["dga"]["files"]["dga.skops"] == sha256_file(models / "dga.skops")
    digest = sha256_file(models / "beacon.calibration.json")
    assert arts["beacon-calibration"]["version"] == f"beacon-calibration-{digest[:12]}"
    assert "MANIFEST.json" not in json.dumps(arts)
    assert build_manifest(models) == manifest  # deterministic
    assert check_folder(models)[1] == []
    assert stale_message(models) is None


def test_tampered_file_is_a_digest_mismatch_and_the_manifest_goes_stale(models: Path):
    _flip(models / "dga.skops")
    kinds = [p.kind for p in check_folder(models)[1]]
    assert "digest-mismatch" in kinds
    message = stale_message(models)
    assert message is not None and REFRESH_COMMAND in message
    assert main(["--check", str(models)]) == 1
    assert main([str(models)]) == 0 and main(["--check", str(models)]) == 0


def test_missing_stray_and_rebound_files(models: Path):
    (models / "beacon.calibration.json").unlink()
    (models / "evil.skops").write_bytes(b"not listed")
    card = json.loads((models / "dga.card.json").read_text())
    card["version"] = "dga-222"
    (models / "dga.card.json").write_text(json.dumps(card))
    problems = check_folder(models)[1]
    by_kind = {(p.kind, p.name) for p in problems}
    assert ("missing-file", "beacon-calibration") in by_kind
    assert ("unregistered-file", "evil") in by_kind
    assert ("binding-conflict", "dga") in by_kind  # card says dga-222, manifest dga-111
    assert ("digest-mismatch", "dga") in by_kind


def test_card_claim_disagreeing_with_the_model_file(models: Path):
    card = json.loads((models / "dga.card.json").read_text())
    card["sha256"] = "0" * 64
    (models / "dga.card.json").write_text(json.dumps(card))
    write_manifest(models)  # even a refreshed manifest does not hide it
    problems = check_folder(models)[1]
    assert [p.kind for p in problems] == ["binding-conflict"]
    assert "states sha256 000000000000" in problems[0].detail


def test_missing_or_broken_manifest(models: Path):
    (models / "MANIFEST.json").write_text("{not json")
    assert [p.kind for p in check_folder(models)[1]] == ["manifest-invalid"]
    (models / "MANIFEST.json").unlink()
    assert [p.kind for p in check_folder(models)[1]] == ["manifest-invalid"]
    assert set(scan_folder(models)) == {"dga", "beacon-calibration"}


def test_shipped_gate_refuses_a_changed_or_unlisted_file(models: Path):
    target = models / "dga.skops"
    gate._check_shipped(target, "dga", sha256_file(target))
    _flip(target)
    with pytest.raises(InputError, match=r"model artefact dga: .*shipped manifest says"):
        gate._check_shipped(target, "dga", sha256_file(target))
    (models / "new.skops").write_bytes(b"x")
    with pytest.raises(InputError, match="not in the shipped manifest"):
        gate._check_shipped(models / "new.skops", "new", sha256_file(models / "new.skops"))


def test_shipped_dga_passes_the_gate():
    digest = gate.verify_model_file(shipped_folder() / "dga.skops")
    assert digest == sha256_file(shipped_folder() / "dga.skops")
