"""What a model artefact is on disk: its files, its card, its version, their digests.

One naming rule serves the shipped folder and trained output alike, so the manifest, the
home registry and ``garrison models train`` agree on which files make up an artefact:

- ``NAME.skops`` with its card ``NAME.card.json``  -> artefact ``NAME`` (dga, url, email);
- ``NAME.calibration.json`` (its own card)          -> artefact ``NAME-calibration``;
- anything else ``STEM.ext``                         -> artefact ``STEM`` (so a stray file
  still shows up as an artefact rather than being silently ignored).

The version is the card's ``version`` when it has one; otherwise it is derived from the
content (``NAME-`` + 12 hex of the primary file's SHA-256), which is stable and honest:
such an artefact can never have one version with two digests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Files in a model folder that are not artefacts.
#: (``MANIFEST.sig`` and ``release-key.pub``: the release signature, see ``release``.)
IGNORED = frozenset({"MANIFEST.json", "MANIFEST.sig", "release-key.pub"})
CALIBRATION = ".calibration.json"
CARD = ".card.json"
CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB chunks (artefacts can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def artifact_name(file_name: str) -> str:
    """The artefact a file belongs to, by the naming rule above."""
    if file_name.endswith(CALIBRATION):
        return file_name[: -len(CALIBRATION)] + "-calibration"
    if file_name.endswith(CARD):
        return file_name[: -len(CARD)]
    return file_name.split(".", 1)[0]


def expected_files(name: str) -> tuple[str, ...]:
    """Files an artefact called ``name`` is written as, primary first (for training)."""
    if name.endswith("-calibration"):
        return (name[: -len("-calibration")] + CALIBRATION,)
    return (f"{name}.skops", f"{name}{CARD}")


def card_file(name: str, files: Iterable[str]) -> str | None:
    """Which of an artefact's files is its card (the calibration file is its own card)."""
    names = set(files)
    for candidate in (f"{name}{CARD}", name.removesuffix("-calibration") + CALIBRATION):
        if candidate in names:
            return candidate
    return None


def primary_file(name: str, files: Iterable[str]) -> str:
    """The file that holds the model (the skops file when there is one)."""
    ordered = sorted(files)
    for file_name in ordered:
        if file_name.endswith(".skops"):
            return file_name
    card = card_file(name, ordered)
    return card if card is not None else ordered[0]


def read_card(path: Path) -> dict[str, Any]:
    """A card as a dict; an unreadable or non-object card reads as empty."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True, slots=True)
class Artifact:
    """One artefact as found on disk: name, version and ``{file name: sha256}``."""

    name: str
    version: str
    files: dict[str, str]
    card: str | None

    @property
    def primary(self) -> str:
        return primary_file(self.name, self.files)

    @property
    def card_sha256(self) -> str | None:
        return self.files.get(self.card) if self.card else None


def version_of(name: str, folder: Path, files: dict[str, str]) -> str:
    """The card's ``version``, else a content-derived one (see the module docstring)."""
    card = card_file(name, files)
    if card is not None:
        version = read_card(folder / card).get("version")
        if isinstance(version, str) and version:
            return version
    return f"{name}-{files[primary_file(name, files)][:12]}"


def scan_folder(folder: Path) -> dict[str, Artifact]:
    """Every artefact in a folder, by name (regular files only, MANIFEST.json and dot files
    excluded)."""
    grouped: dict[str, dict[str, str]] = {}
    if not folder.is_dir():
        return {}
    for path in sorted(folder.iterdir()):
        if path.name in IGNORED or path.name.startswith(".") or not path.is_file():
            continue
        grouped.setdefault(artifact_name(path.name), {})[path.name] = sha256_file(path)
    return {
        name: Artifact(name, version_of(name, folder, files), files, card_file(name, files))
        for name, files in grouped.items()
    }


def read_artifact(folder: Path, name: str) -> Artifact:
    """The artefact ``name`` as written in ``folder`` (its expected files that exist)."""
    files = {
        file_name: sha256_file(folder / file_name)
        for file_name in expected_files(name)
        if (folder / file_name).is_file()
    }
    if not files:
        raise FileNotFoundError(f"no files of model {name!r} in {folder}")
    return Artifact(name, version_of(name, folder, files), files, card_file(name, files))


def card_claim(folder: Path, artifact: Artifact) -> str | None:
    """A problem when the card states a SHA-256 for its model file that the file lacks."""
    if artifact.card is None or artifact.card == artifact.primary:
        return None
    card = read_card(folder / artifact.card)
    claimed, file_name = card.get("sha256"), card.get("file", artifact.primary)
    if not isinstance(claimed, str) or file_name not in artifact.files:
        return None
    if claimed != artifact.files[file_name]:
        return (
            f"card {artifact.card} states sha256 {claimed[:12]} for {file_name}, file has "
            + (artifact.files[file_name][:12])
        )
    return None
