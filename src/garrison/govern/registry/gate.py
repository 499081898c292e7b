"""The loader's gate: a model file is deserialised only once its digest is vouched for.

``verify_model_file(path)`` runs before skops reads anything:

- a file in a shipped folder (the models and calibrations, the brand list) must have the
  SHA-256 that folder's manifest lists for it, the manifest must carry a valid release
  signature (``release``), and the artefact's other files (the card holds the threshold)
  must match too, with no other file of the artefact in the folder;
- any other file must match a registry entry of the home signed by a key the home trusts,
  and, when the registry placed a version of that model in the file's folder, the newest
  such placement (an older, validly signed file put back is a downgrade and is refused);
  its card must match the entry, and once the model has stage moves (``stages``), which
  must all verify, the version must be staged or a fresh candidate (registered after the
  production version, never staged): an older or retired version is a downgrade.

``production_model(name)`` names the file of the production version, which the detectors
load by default (``detect.ml.artifacts.VerifiedModels``).

Anything else raises InputError naming the artefact, so every caller already maps it to
exit 2 and a clear message. ``read_verified`` returns the bytes it checked, for the loader to
deserialise (``skops.io.loads``): no second read that a swapped file could win.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from garrison.core.config import resolve_home
from garrison.core.errors import InputError
from garrison.govern.registry.artifacts import (
    IGNORED,
    Artifact,
    artifact_name,
    primary_file,
    sha256_file,
)
from garrison.govern.registry.manifest import load_manifest, package_folder, shipped_folders

if TYPE_CHECKING:
    from garrison.govern.registry.stages import Stages
    from garrison.govern.registry.store import Entry

REFUSED = "refusing to load it"


def verify_model_file(path: Path, home: Path | str | None = None) -> str:
    """Check ``path`` (see the module docstring); return its SHA-256 or raise InputError."""
    return read_verified(path, home)[1]


def read_verified(
    path: Path,
    home: Path | str | None = None,
    *,
    shipped: Sequence[Path] | None = None,
    release_key: Path | None = None,
) -> tuple[bytes, str]:
    """The file's bytes and SHA-256, read once and checked (see the module docstring).

    Loaders deserialise these bytes, not the file again, so the file cannot be swapped
    between the check and the load. ``shipped`` (default: the package's shipped folders)
    and ``release_key`` (default: the package's) let the tamper evaluation run this very
    check on a copy of a shipped folder."""
    target = path.resolve()
    name = artifact_name(target.name)
    if not target.is_file():
        raise InputError(f"model artefact {name}: {path} not found")
    try:
        data = target.read_bytes()
    except OSError as exc:
        raise InputError(f"model artefact {name}: cannot read {path}: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    folders = shipped_folders() if shipped is None else shipped
    if any(target.parent == folder.resolve() for folder in folders):
        from garrison.govern.registry.release import load_signed_manifest

        try:
            listed = load_signed_manifest(target.parent, release_key)
        except InputError as exc:
            raise InputError(f"model artefact {name}: {exc}; {REFUSED}") from None
        _check_shipped(target, name, digest, listed)
    else:
        _check_home(target, name, digest, resolve_home(home))
    return data, digest


def read_shipped_text(package: str, relative: str) -> str:
    """A data file shipped in ``package`` (a folder listed in ``SHIPPED``), checked against
    its folder's manifest and decoded as UTF-8: lists and maps that change what a detector
    reports (shared-hosting suffixes, Sigma field maps and log sources) go through the same
    gate as the models."""
    path = package_folder(package) / relative
    data, _digest = read_verified(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"shipped file {relative}: not UTF-8 ({exc})") from exc


def _check_shipped(
    target: Path, name: str, digest: str, listed: Mapping[str, Artifact] | None = None
) -> None:
    entry = (load_manifest(target.parent) if listed is None else listed).get(name)
    expected = entry.files.get(target.name) if entry is not None else None
    if entry is None or expected is None:
        raise InputError(
            f"model artefact {name}: {target.name} is not in the shipped manifest; {REFUSED}"
        )
    if expected != digest:
        raise InputError(
            f"model artefact {name}: {target} has sha256 {digest[:12]}, the shipped manifest "
            f"says {expected[:12]} (the file was changed after packaging); {REFUSED}"
        )
    _check_siblings(target, name, entry.files, "the shipped manifest")


def _check_siblings(target: Path, name: str, files: Mapping[str, str], where: str) -> None:
    """The artefact's other files (its card above all: it holds the threshold) must be the
    ones ``where`` binds, and the folder must hold no other file of the artefact."""
    folder = target.parent
    for file_name, expected in sorted(files.items()):
        if file_name == target.name:
            continue
        path = folder / file_name
        if not path.is_file():
            raise InputError(
                f"model artefact {name}: {path} is missing ({where} lists it); {REFUSED}"
            )
        if (actual := sha256_file(path)) != expected:
            raise InputError(
                f"model artefact {name}: {path} has sha256 {actual[:12]}, {where} says "
                f"{expected[:12]} (changed after it was recorded); {REFUSED}"
            )
    for path in sorted(folder.iterdir()):
        if (
            path.name not in files
            and path.name not in IGNORED
            and not path.name.startswith(".")
            and artifact_name(path.name) == name
        ):
            raise InputError(
                f"model artefact {name}: {path} belongs to it by name but {where} does not "
                f"list it (a file added or renamed); {REFUSED}"
            )


def production_model(name: str, home: Path | str | None = None) -> Path | None:
    """The primary file of the version of ``name`` the home registry has in production,
    None when it has none (the model shipped with the package serves); InputError when the
    model's stage records do not verify (a forged or edited pointer is not followed)."""
    where = resolve_home(home)
    if not (where / "state.db").is_file():  # no registry: nothing staged (and no import)
        return None
    from garrison.govern.registry.stages import load_stages, placed_folder
    from garrison.govern.registry.store import HomeRegistry

    stages = load_stages(where)
    if broken := stages.broken(name):
        raise InputError(f"model artefact {name}: {broken[0].detail}; {REFUSED}")
    version = stages.state(name).production
    if version is None:
        return None
    with HomeRegistry.open(where, create=False) as registry:
        assert registry is not None  # noqa: S101 - stages exist, so does the database
        folder = placed_folder(registry, where, name, version)
        entry = next(
            (e for e in registry.entries() if e.name == name and e.version == version), None
        )
    if folder is None or entry is None:
        raise InputError(
            f"model artefact {name}: production version {version} has no signed entry and "
            f"placement in {where}; {REFUSED}"
        )
    return folder / primary_file(name, entry.files)


def _check_home(target: Path, name: str, digest: str, home: Path) -> None:
    # imported here: only home models need the signing library (~50 ms to import)
    from garrison.govern.registry.check import signature_problem
    from garrison.govern.registry.keys import trusted_keys
    from garrison.govern.registry.stages import load_stages
    from garrison.govern.registry.store import HomeRegistry, location_of

    with HomeRegistry.open(home, create=False) as registry:
        entries = registry.entries() if registry else []
        placements = registry.placements() if registry else []
    trusted = trusted_keys(home)
    signed = [
        e
        for e in entries
        if e.files.get(target.name) == digest and signature_problem(e, trusted, "entry") is None
    ]
    here = location_of(target.parent)
    placed = [
        p
        for p in placements
        if p.location == here
        and p.name == name
        and signature_problem(p, trusted, "placement") is None
    ]
    if not signed and placed:
        raise InputError(
            f"model artefact {name}: {target} has sha256 {digest[:12]}, which no signed "
            f"registry entry holds; version {placed[-1].version} was the last registered in "
            f"this folder (the file was changed after registration); {REFUSED}"
        )
    if not signed:
        raise InputError(
            f"model artefact {name}: {target} (sha256 {digest[:12]}) matches no signed entry "
            f"of the model registry in {home}; {REFUSED} (a model trained with `garrison "
            f"models train` is registered; register a file you trust with `garrison models "
            f"register {name} --dir {target.parent}`)"
        )
    if placed and placed[-1].version not in {e.version for e in signed}:
        versions = ", ".join(sorted({e.version for e in signed}))
        raise InputError(
            f"model artefact {name}: {target} is version {versions}, but version "
            f"{placed[-1].version} is the newest registered in {target.parent} (a downgrade "
            f"or a stale copy); {REFUSED}"
        )
    entry = next((e for e in signed if placed and e.version == placed[-1].version), signed[-1])
    _check_siblings(target, name, entry.files, f"the signed entry of version {entry.version}")
    _check_stage(name, entry, entries, load_stages(home), target)


def _check_stage(name: str, entry: Entry, entries: Sequence[Entry], stages: Stages,
                 target: Path) -> None:  # fmt: skip
    """Once a model has stage moves, only a staged version, or one registered after the
    production version and never staged (a fresh candidate), may load: an older or
    retired version is a downgrade, however valid its signature."""
    if broken := stages.broken(name):
        raise InputError(f"model artefact {name}: {broken[0].detail}; {REFUSED}")
    state = stages.state(name)
    if not state.ever or entry.version in state.stages.values():
        return
    production = state.production
    floor = max(
        (e.created for e in entries if e.name == name and e.version == production), default=0
    )
    if entry.version not in state.ever and entry.created > floor:
        return
    pointed = f"production is {production}" if production else "production is the shipped model"
    raise InputError(
        f"model artefact {name}: {target} is version {entry.version}, which the registry "
        f"does not point to ({pointed}; staged: {_staged(state.stages)}): an older or "
        f"retired version is a downgrade; {REFUSED}"
    )


def _staged(stages: Mapping[str, str]) -> str:
    return ", ".join(f"{s} {v}" for s, v in sorted(stages.items())) or "none"
