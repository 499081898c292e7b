"""SHA-256 digests of files an audited action wrote (what a model training produced)."""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def artifact_digests(folder: Path, stem: str) -> dict[str, str]:
    """``{file name: sha256}`` of the files ``STEM.*`` directly in ``folder``."""
    if not folder.is_dir():
        return {}
    return {
        path.name: sha256_file(path)
        for path in sorted(folder.glob(f"{stem}.*"))
        if path.is_file() and not path.name.endswith((".tmp", ".lock"))
    }
