"""The manifests of the artefacts shipped inside the package: every file that changes a
detector's output. ``detect/ml/models/MANIFEST.json`` covers the models and the confidence
calibrations (``beacon.calibration.json``, ``ueba.calibration.json``);
``content/lookalike/MANIFEST.json`` the brand list that ``ml.lookalike`` and the URL model's
brand features read. Each folder of ``SHIPPED`` has its own manifest, checked the same way.

What it protects, and what it does not: the manifest binds every shipped file, by SHA-256,
to an artefact name and version, and the loader refuses a shipped file whose digest is not
the manifest's. That catches a model file changed, swapped or corrupted after the package
was built, a file dropped into the folder, and a file that changed while the manifest did
not (a test fails then). The manifest itself is signed at release time with the release key
(``release``: ``MANIFEST.sig`` beside it, the public key in the package), so rewriting the
manifest along with the files needs that key.

Refresh it after changing a shipped model::

    python -m garrison.govern.registry.manifest          # rewrite MANIFEST.json
    python -m garrison.govern.registry.manifest --check  # exit 1 when it is stale

and sign it again (``scripts/sign_shipped_models.py``, by whoever holds the release key).
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from garrison.core.errors import InputError
from garrison.govern.registry.artifacts import Artifact, card_claim, scan_folder, sha256_file
from garrison.govern.registry.problems import Problem

FORMAT = "garrison-model-manifest/1"
MANIFEST = "MANIFEST.json"
REFRESH_COMMAND = "python -m garrison.govern.registry.manifest"


#: (package, folder) of every shipped folder whose files the gate binds to a manifest.
SHIPPED = (
    ("garrison.detect.ml", "models"),
    ("garrison.content", "lookalike"),
    ("garrison.content", "intel"),
    ("garrison.detect.sigma", "data"),
)


def shipped_folder() -> Path:
    """The folder of the models shipped with the package."""
    return Path(str(importlib.resources.files("garrison.detect.ml").joinpath("models")))


def package_folder(package: str) -> Path:
    """Where an installed package's files are, found without importing the package itself
    (``garrison.detect.sigma`` would load the whole Sigma engine just to name a folder)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"package {package} not found")
    return Path(next(iter(spec.submodule_search_locations)))


def shipped_folders() -> list[Path]:
    """Every folder of shipped artefacts (models first), each with its own manifest."""
    return [package_folder(pkg) / sub for pkg, sub in SHIPPED]


def build_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of every artefact in ``folder`` (deterministic: no time stamp)."""
    return {
        "format": FORMAT,
        "algorithm": "sha256",
        "refresh": REFRESH_COMMAND,
        "artifacts": {
            name: {"version": art.version, "files": dict(sorted(art.files.items()))}
            for name, art in sorted(scan_folder(folder).items())
        },
    }


def render(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2) + "\n"


def write_manifest(folder: Path) -> Path:
    """(Re)write ``folder/MANIFEST.json`` from the files there."""
    path = folder / MANIFEST
    path.write_text(render(build_manifest(folder)), encoding="utf-8")
    return path


def load_manifest(folder: Path) -> dict[str, Artifact]:
    """The artefacts the manifest in ``folder`` lists; InputError when it is absent or bad.
    (Digests only: ``release.load_signed_manifest`` also checks the release signature.)"""
    path = folder / MANIFEST
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"model manifest {path} is missing (run `{REFRESH_COMMAND}`)") from None
    except OSError as exc:
        raise InputError(f"model manifest {path} is unreadable: {exc}") from exc
    return parse_manifest(data, path)


def parse_manifest(data: bytes, path: Path) -> dict[str, Artifact]:
    """The artefacts a manifest's bytes list (``path`` only names it in messages)."""
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InputError(f"model manifest {path} is unreadable: {exc}") from exc
    if not isinstance(parsed, dict) or parsed.get("format") != FORMAT:
        raise InputError(f"model manifest {path}: not a {FORMAT} manifest")
    out: dict[str, Artifact] = {}
    try:
        for name, entry in parsed["artifacts"].items():
            files = {str(k): str(v) for k, v in entry["files"].items()}
            out[str(name)] = Artifact(str(name), str(entry["version"]), files, None)
    except (AttributeError, KeyError, TypeError) as exc:
        raise InputError(f"model manifest {path}: malformed entry ({exc})") from exc
    return out


def check_folder(folder: Path) -> tuple[dict[str, Artifact], list[Problem]]:
    """The manifest's artefacts and every way the folder departs from it."""
    try:
        listed = load_manifest(folder)
    except InputError as exc:
        return {}, [Problem("manifest-invalid", "shipped", MANIFEST, str(exc))]
    found = scan_folder(folder)
    problems: list[Problem] = []
    for name, entry in listed.items():
        for file_name, digest in entry.files.items():
            path = folder / file_name
            if not path.is_file():
                problems.append(
                    Problem("missing-file", "shipped", name, f"manifest entry without file {path}")
                )
            elif (actual := sha256_file(path)) != digest:
                problems.append(
                    Problem(
                        "digest-mismatch",
                        "shipped",
                        name,
                        f"{file_name} has sha256 {actual[:12]}, manifest {digest[:12]}",
                    )
                )
        here = found.get(name)
        if here is not None and here.version != entry.version:
            problems.append(
                Problem(
                    "binding-conflict",
                    "shipped",
                    name,
                    f"card says version {here.version}, manifest {entry.version}",
                )
            )
        if here is not None and (claim := card_claim(folder, here)):
            problems.append(Problem("binding-conflict", "shipped", name, claim))
    for name, art in found.items():
        known = listed.get(name)
        for file_name in art.files:
            if known is None or file_name not in known.files:
                problems.append(
                    Problem(
                        "unregistered-file",
                        "shipped",
                        name,
                        f"file without manifest entry: {folder / file_name}",
                    )
                )
    return listed, problems


def stale_message(folder: Path) -> str | None:
    """Why ``MANIFEST.json`` does not describe ``folder`` (None when it does)."""
    path = folder / MANIFEST
    wanted = render(build_manifest(folder))
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    if current == wanted:
        return None
    return (
        f"{path} does not match the shipped model files; if the change is intended, "
        f"refresh it with `{REFRESH_COMMAND}` and commit it"
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m garrison.govern.registry.manifest [--check] [FOLDER]`` (default: every
    shipped folder)."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    rest = [a for a in args if a != "--check"]
    folders = [Path(rest[0])] if rest else shipped_folders()
    stale = 0
    for folder in folders:
        if check:
            problem = stale_message(folder)
            print(problem or f"{folder / MANIFEST} is up to date")
            stale += problem is not None
            continue
        path = write_manifest(folder)
        print(f"wrote {path} ({len(build_manifest(folder)['artifacts'])} artefacts)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
