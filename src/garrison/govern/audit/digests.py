"""SHA-256 digests of files an audited action wrote (what a model training produced)."""

from __future__ import annotations

from pathlib import Path

from garrison.govern.registry.artifacts import sha256_file

__all__ = ["artifact_digests", "sha256_file"]


def artifact_digests(folder: Path, stem: str) -> dict[str, str]:
    """``{file name: sha256}`` of the files ``STEM.*`` directly in ``folder``."""
    if not folder.is_dir():
        return {}
    return {
        path.name: sha256_file(path)
        for path in sorted(folder.glob(f"{stem}.*"))
        if path.is_file() and not path.name.endswith((".tmp", ".lock"))
    }
