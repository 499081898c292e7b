"""The loader's gate: a model file is deserialised only once its digest is vouched for.

``verify_model_file(path)`` runs before skops reads anything:

- a file in a shipped folder (the models and calibrations, the brand list) must have the
  SHA-256 that folder's manifest lists for it (see ``manifest`` for what that does and does
  not prove);
- any other file must match a registry entry of the home signed by a key the home trusts,
  and, when the registry placed a version of that model in the file's folder, the newest
  such placement (an older, validly signed file put back is a downgrade and is refused).

Anything else raises InputError naming the artefact, so every caller already maps it to
exit 2 and a clear message. ``read_verified`` returns the bytes it checked, for the loader to
deserialise (``skops.io.loads``): no second read that a swapped file could win.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from garrison.core.config import resolve_home
from garrison.core.errors import InputError
from garrison.govern.registry.artifacts import artifact_name
from garrison.govern.registry.manifest import load_manifest, package_folder, shipped_folders

REFUSED = "refusing to load it"


def verify_model_file(path: Path, home: Path | str | None = None) -> str:
    """Check ``path`` (see the module docstring); return its SHA-256 or raise InputError."""
    return read_verified(path, home)[1]


def read_verified(path: Path, home: Path | str | None = None) -> tuple[bytes, str]:
    """The file's bytes and SHA-256, read once and checked (see the module docstring).

    Loaders deserialise these bytes, not the file again, so the file cannot be swapped
    between the check and the load."""
    target = path.resolve()
    name = artifact_name(target.name)
    if not target.is_file():
        raise InputError(f"model artefact {name}: {path} not found")
    try:
        data = target.read_bytes()
    except OSError as exc:
        raise InputError(f"model artefact {name}: cannot read {path}: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if any(target.parent == folder.resolve() for folder in shipped_folders()):
        _check_shipped(target, name, digest)
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


def _check_shipped(target: Path, name: str, digest: str) -> None:
    entry = load_manifest(target.parent).get(name)
    expected = entry.files.get(target.name) if entry is not None else None
    if expected is None:
        raise InputError(
            f"model artefact {name}: {target.name} is not in the shipped manifest; {REFUSED}"
        )
    if expected != digest:
        raise InputError(
            f"model artefact {name}: {target} has sha256 {digest[:12]}, the shipped manifest "
            f"says {expected[:12]} (the file was changed after packaging); {REFUSED}"
        )


def _check_home(target: Path, name: str, digest: str, home: Path) -> None:
    # imported here: only home models need the signing library (~50 ms to import)
    from garrison.govern.registry.check import signature_problem
    from garrison.govern.registry.keys import trusted_keys
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
