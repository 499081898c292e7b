"""``garrison models list|verify``: every artefact, shipped and home, with what does not hold.

Shipped artefacts are checked against the package manifest (see ``manifest``); home
artefacts against the signed registry (see ``store``):

- each entry and placement must carry a valid signature by a trusted key
  (``bad-signature`` / ``unknown-signer``);
- a name and version bound to two sets of digests (two rows, or a home entry that reuses a
  shipped name and version with other files) is a ``binding-conflict``;
- the newest placement of each name in a folder says what that folder must hold: a changed
  file is a ``digest-mismatch``, a missing one ``missing-file`` (inside the home; a folder
  outside it, such as a deleted ``--out`` folder, is reported as absent, not as a failure);
- a file in ``HOME/models`` that no signed entry covers is an ``unregistered-file``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from garrison.core.errors import InputError
from garrison.govern.registry.artifacts import scan_folder, sha256_file
from garrison.govern.registry.keys import load_signing_key, trusted_keys, verify_signature
from garrison.govern.registry.manifest import MANIFEST, check_folder, shipped_folders
from garrison.govern.registry.problems import Problem
from garrison.govern.registry.store import (
    Entry,
    HomeRegistry,
    Placement,
    decode_signature,
    location_of,
)


@dataclass(slots=True)
class Row:
    """One line of ``garrison models list``."""

    name: str
    version: str
    origin: str
    digest: str
    signer: str
    location: str
    problems: list[Problem] = field(default_factory=list)
    note: str = ""

    @property
    def status(self) -> str:
        if self.problems:
            return ", ".join(sorted({p.kind for p in self.problems}))
        return self.note or "ok"


@dataclass(slots=True)
class Report:
    rows: list[Row]
    problems: list[Problem]

    def only(self, name: str) -> Report:
        return Report(
            [r for r in self.rows if r.name == name], [p for p in self.problems if p.name == name]
        )


def signature_problem(
    item: Entry | Placement, trusted: Mapping[str, Ed25519PublicKey], what: str
) -> Problem | None:
    """Why a signed row does not verify (None when it does)."""
    key = trusted.get(item.signer)
    if key is None:
        return Problem(
            "unknown-signer",
            "home",
            item.name,
            f"{what} signed by {item.signer}, not a key this home trusts",
            item.version,
        )
    if not verify_signature(key, decode_signature(item.signature), item.payload()):
        return Problem(
            "bad-signature",
            "home",
            item.name,
            f"{what} signature does not verify (signer {item.signer})",
            item.version,
        )
    return None


def _shipped(folder: Path) -> tuple[Report, dict[str, dict[str, str]]]:
    """The shipped rows, and the manifest's ``name\0version -> files`` bindings."""
    from garrison.govern.registry.release import release_key_path, verified_manifest_bytes

    listed, problems = check_folder(folder)
    try:
        verified_manifest_bytes(folder, release_key_path())
    except InputError as exc:
        problems.append(Problem("manifest-unsigned", "shipped", MANIFEST, str(exc)))
    rows = [
        Row(
            name,
            art.version,
            "shipped",
            art.files.get(art.primary, "")[:12],
            "package manifest",
            str(folder),
            [p for p in problems if p.name == name],
        )
        for name, art in sorted(listed.items())
    ]
    for problem in problems:
        if problem.name not in listed:
            rows.append(Row(problem.name, "?", "shipped", "", "-", str(folder), [problem]))
    bindings = {f"{n}\0{a.version}": a.files for n, a in listed.items()}
    return Report(rows, problems), bindings


def _home(home: Path, shipped: dict[str, dict[str, str]]) -> Report:
    with HomeRegistry.open(home, create=False) as registry:
        entries = registry.entries() if registry else []
        placements = registry.placements() if registry else []
    trusted = trusted_keys(home)
    own = load_signing_key(home)
    problems: list[Problem] = []
    valid: dict[tuple[str, str], Entry] = {}
    rows: dict[int, Row] = {}
    seen: dict[tuple[str, str], Entry] = {}
    for entry in entries:
        signer = entry.signer + (
            " (this home)" if own is not None and own.id == entry.signer else ""
        )
        row = Row(entry.name, entry.version, "home", _primary_digest(entry), signer, "-")
        rows[entry.id] = row
        issue = signature_problem(entry, trusted, "entry")
        if issue is None:
            valid[(entry.name, entry.version)] = entry
        else:
            row.problems.append(issue)
        earlier = seen.setdefault((entry.name, entry.version), entry)
        ship = shipped.get(f"{entry.name}\0{entry.version}")
        if (earlier is not entry and earlier.files != entry.files) or (
            ship is not None and ship != entry.files
        ):
            row.problems.append(
                Problem(
                    "binding-conflict",
                    "home",
                    entry.name,
                    "this name and version is bound to other digests",
                    entry.version,
                )
            )
    latest: dict[tuple[str, str], Placement] = {}
    for placement in placements:
        issue = signature_problem(placement, trusted, f"placement in {placement.location}")
        if issue is not None:
            problems.append(issue)
            continue
        latest[(placement.location, placement.name)] = placement
    checked: set[tuple[str, str]] = set()
    extra: list[Row] = []
    for (location, name), placement in sorted(latest.items()):
        placed = valid.get((name, placement.version))
        if placed is None:
            continue
        row = rows[placed.id]
        row.location = location
        found = _check_placement(home, Path(location), placed)
        if found is None:
            row.note = "absent"
        else:
            row.problems.extend(found)
            checked.update((location, f) for f in placed.files)
    models = home / "models"
    for art in scan_folder(models).values():
        for file_name, digest in art.files.items():
            if (location_of(models), file_name) in checked:
                continue
            if not any(e.files.get(file_name) == digest for e in valid.values()):
                problem = Problem(
                    "unregistered-file",
                    "home",
                    art.name,
                    f"file without a signed registry entry: {models / file_name}",
                    art.version,
                )
                extra.append(
                    Row(art.name, art.version, "home", digest[:12], "-", str(models), [problem])
                )
    everything = [*rows.values(), *extra]
    for row in everything:
        problems.extend(row.problems)
    problems.extend(_stage_problems(home, valid))
    return Report(everything, _unique(problems))


def _stage_problems(home: Path, valid: Mapping[tuple[str, str], Entry]) -> list[Problem]:
    """Stage moves that do not verify, and staged versions without a valid entry."""
    from garrison.govern.registry.stages import load_stages

    stages = load_stages(home)
    out = list(stages.problems)
    for name, state in sorted(stages.states.items()):
        if stages.broken(name):
            continue
        for stage, version in sorted(state.stages.items()):
            if (name, version) not in valid:
                detail = f"{stage} is version {version}, which has no validly signed entry"
                out.append(Problem("stage-invalid", "home", name, detail, version))
    return out


def _check_placement(home: Path, folder: Path, entry: Entry) -> list[Problem] | None:
    """What is wrong with ``entry``'s files in ``folder``; None when the folder is gone
    and lies outside the home (a temporary ``--out`` folder is no failure)."""
    inside = folder.resolve().is_relative_to(home.resolve())
    if not folder.is_dir() and not inside:
        return None
    out: list[Problem] = []
    for file_name, digest in sorted(entry.files.items()):
        path = folder / file_name
        if not path.is_file():
            out.append(
                Problem(
                    "missing-file",
                    "home",
                    entry.name,
                    f"registered file {path} is missing",
                    entry.version,
                )
            )
        elif (actual := sha256_file(path)) != digest:
            out.append(
                Problem(
                    "digest-mismatch",
                    "home",
                    entry.name,
                    f"{path} has sha256 {actual[:12]}, registered {digest[:12]}",
                    entry.version,
                )
            )
    return out


def _primary_digest(entry: Entry) -> str:
    for file_name, digest in sorted(entry.files.items()):
        if file_name.endswith(".skops"):
            return digest[:12]
    return next(iter(sorted(entry.files.values())), "")[:12]


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def verify_all(home: Path, folder: Path | None = None) -> Report:
    """Every artefact of the package (``folder``, default every shipped folder) and of
    ``home``."""
    rows: list[Row] = []
    problems: list[Problem] = []
    bindings: dict[str, dict[str, str]] = {}
    for shipped_dir in [folder] if folder is not None else shipped_folders():
        shipped, found = _shipped(shipped_dir)
        rows += shipped.rows
        problems += shipped.problems
        bindings.update(found)
    home_report = _home(home, bindings)
    return Report(rows + home_report.rows, problems + home_report.problems)
