"""The shared-hosting list and the Sigma field maps and log sources change what the intel
and Sigma detectors report, so they go through the registry gate like the models (issue 18:
every artefact that changes a detector's output): an edited copy is refused, an intact one
is read, and ``read_shipped_text`` reads the package's own files through the manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from garrison.core.errors import InputError
from garrison.govern.registry import gate
from garrison.govern.registry.manifest import build_manifest, load_manifest, shipped_folders

LISTS = [
    ("garrison.content", "intel", "shared_hosting.txt"),
    ("garrison.detect.sigma", "data", "fieldmaps.yaml"),
    ("garrison.detect.sigma", "data", "logsources.yaml"),
]


def _folder(sub: str, package: str) -> Path:
    (found,) = [f for f in shipped_folders() if f.name == sub and package.split(".")[-1] in str(f)]
    return found


@pytest.mark.parametrize(("package", "sub", "name"), LISTS)
def test_the_package_files_match_their_manifest(package: str, sub: str, name: str) -> None:
    folder = _folder(sub, package)
    stored = json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))
    assert stored == build_manifest(folder)  # fresh
    assert name in load_manifest(folder)[name.split(".", 1)[0]].files
    text = gate.read_shipped_text(package, f"{sub}/{name}")
    assert text == (folder / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(("package", "sub", "name"), LISTS)
def test_an_edited_copy_is_refused(
    package: str, sub: str, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / sub
    shutil.copytree(_folder(sub, package), copy)
    monkeypatch.setattr(gate, "shipped_folders", lambda: [copy, *shipped_folders()])
    data, _ = gate.read_verified(copy / name)  # intact: read
    assert data == (copy / name).read_bytes()
    with (copy / name).open("a", encoding="utf-8") as handle:
        handle.write("\n# widened by an attacker\n" if name.endswith(".txt") else "\n{}\n")
    with pytest.raises(InputError):
        gate.read_verified(copy / name)
