"""Loading the shipped skops models (DGA, URL, e-mail) one way.

A model file is read once, checked by the registry gate (package manifest or the home's
signed registry, ``garrison.govern.registry.gate``), and those very bytes are deserialised
with skops, refusing any type outside the model's allowlist. Loaded models are cached by
(path, SHA-256): a file that changed is checked and loaded again, never served from memory
under its old digest.
"""

from __future__ import annotations

import importlib.resources
import platform
import zipfile
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as pkg_version
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import skops.io as sio

from garrison.core.errors import InputError
from garrison.govern.registry.gate import production_model, read_verified

M = TypeVar("M")


def skops_state(data: bytes, where: str, what: str, trusted: Sequence[str]) -> Any:
    """The object a skops artefact holds; InputError when it is not one, or holds a type
    outside ``trusted``. ``what`` names the model in messages ("DGA model")."""
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(f"cannot read {what} {where}: {exc}") from exc
    unexpected = sorted(set(untrusted) - set(trusted))
    if unexpected:
        raise InputError(f"{what} {where} holds untrusted types: {', '.join(unexpected)}")
    return sio.loads(data, trusted=list(trusted))


def shipped_model_path(file_name: str) -> Path:
    """A model file shipped with the package (``garrison/detect/ml/models``)."""
    return Path(str(importlib.resources.files("garrison.detect.ml").joinpath("models", file_name)))


def library_versions(packages: Sequence[str]) -> dict[str, str]:
    """Python's and each package's version, for a model card ("absent" when not installed:
    recorded, not fatal)."""
    out = {"python": platform.python_version()}
    for pkg in packages:
        try:
            out[pkg] = pkg_version(pkg)
        except PackageNotFoundError:
            out[pkg] = "absent"
    return out


def save_skops(state: Any, path: Path) -> None:
    """Write a model's state as a compressed skops file (the folder is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(state, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)


S = TypeVar("S", bound="SkopsArtifact")


class SkopsArtifact:
    """``save``/``load``/``from_bytes`` for a model kept as one skops state dict (DGA, URL,
    e-mail): a subclass names itself (``WHAT``, for messages), its allowlist of extra types
    (``TRUSTED``) and converts its state (``to_state``/``from_state``). A state that skops
    reads but the model cannot use is an ``InputError`` naming the file, never a crash."""

    __slots__ = ()
    WHAT: ClassVar[str]
    TRUSTED: ClassVar[Sequence[str]]

    def to_state(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_state(cls: type[S], state: Any) -> S:
        raise NotImplementedError

    def save(self, path: Path) -> None:
        save_skops(self.to_state(), path)

    @classmethod
    def load(cls: type[S], path: Path) -> S:
        """Load a skops artefact, refusing any type outside the allowlist."""
        return cls.from_bytes(read_artifact(path, cls.WHAT), str(path))

    @classmethod
    def from_bytes(cls: type[S], data: bytes, where: str) -> S:
        """A skops artefact's bytes (already read and checked by the registry gate) as a
        model, refusing any type outside the allowlist."""
        state = skops_state(data, where, cls.WHAT, cls.TRUSTED)
        try:
            return cls.from_state(state)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{cls.WHAT} {where}: {exc}") from exc


def read_artifact(path: Path, what: str) -> bytes:
    """A model file's bytes, without the registry check (training and tests)."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc}") from exc


class VerifiedModels(Generic[M]):
    """Models loaded through the registry gate, cached by (path, digest).

    ``name`` is the artefact (``dga``: its shipped file is ``dga.skops``), ``what`` how
    messages call it ("DGA model")."""

    def __init__(self, build: Callable[[bytes, str], M], name: str = "", what: str = "") -> None:
        self._build = build
        self._loaded: dict[tuple[str, str], M] = {}
        self.name = name
        self.what = what

    def get(self, path: Path | None, home: Path | None) -> M:
        """The model at ``path``, else the home registry's production version, else the
        one shipped with the package (see ``load``)."""
        target = (
            path or production_model(self.name, home) or shipped_model_path(f"{self.name}.skops")
        )
        if not target.is_file():
            raise InputError(
                f"{self.what} not found: {target} (train one with `garrison models train "
                f"{self.name} --data DIR`)"
            )
        return self.load(target, home)

    def load(self, target: Path, home: Path | None) -> M:
        data, digest = read_verified(target, home)
        key = (str(target.resolve()), digest)
        model = self._loaded.get(key)
        if model is None:
            model = self._loaded[key] = self._build(data, str(target))
        return model
