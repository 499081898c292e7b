"""Real, distinct, registered versions of the DGA model, for the tamper evaluation and the
stage tests.

Each version is the shipped DGA model's state with its own ``version``, written with a
chosen zip compression level, and a card naming that version: other bytes, the same
weights, so a loader that accepts one really deserialises a working model."""

from __future__ import annotations

import functools
import json
import zipfile
from pathlib import Path
from typing import Any

import skops.io as sio

from garrison.detect.ml.dga.model import TRUSTED_TYPES
from garrison.govern.registry.artifacts import sha256_file
from garrison.govern.registry.manifest import shipped_folder
from garrison.govern.registry.store import register_model


def write_version(
    folder: Path, version: str, level: int = 1, threshold: float | None = None
) -> Path:
    """``folder/dga.skops`` and its card, holding the shipped weights as ``version`` (and,
    given, another decision ``threshold``: a version that decides differently)."""
    folder.mkdir(parents=True, exist_ok=True)
    shipped = shipped_folder()
    state = dict(_shipped_state())
    state["version"] = version
    if threshold is not None:
        state["threshold"] = threshold
    target = folder / "dga.skops"
    sio.dump(state, target, compression=zipfile.ZIP_DEFLATED, compresslevel=level)
    card = json.loads((shipped / "dga.card.json").read_text(encoding="utf-8"))
    card.update(version=version, sha256=sha256_file(target))
    (folder / "dga.card.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return target


@functools.lru_cache(maxsize=1)
def _shipped_state() -> dict[str, Any]:
    """The shipped DGA model's state (read through the gate, once per process)."""
    from garrison.govern.registry.gate import read_verified

    data, _digest = read_verified(shipped_folder() / "dga.skops")
    state: dict[str, Any] = sio.loads(data, trusted=list(TRUSTED_TYPES))
    return state


def registered_version(
    home: Path, folder: Path, version: str, level: int = 1, threshold: float | None = None
) -> Path:
    """A version written to ``folder`` and registered (signed, placed) in ``home``."""
    target = write_version(folder, version, level, threshold)
    register_model(home, folder, "dga")
    return target
