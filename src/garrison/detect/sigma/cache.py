"""Compiled-rule cache: the IR of each rule file, as JSON, keyed by the file's content hash.

Parsing 3,700 SigmaHQ rules with pySigma takes seconds; reading their cached IR takes a
fraction of that. Entries live under ``HOME/cache/sigma/<hh>/<sha256>.json`` and hold only
data (JSON of our own IR: never pickle, nothing executable), so a tampered cache can at worst
make a rule wrong, not run code. The key covers the file bytes, the IR version and the
pySigma version, so any change re-parses. Writes are atomic (temporary file + rename); an
unreadable or foreign entry is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from garrison.detect.sigma.convert import IR_VERSION


def _pysigma_version() -> str:
    try:
        return version("pysigma")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


SALT = f"garrison-sigma-ir/{IR_VERSION}/pysigma-{_pysigma_version()}\0".encode()


def content_key(data: bytes) -> str:
    """The cache key of one rule file's bytes."""
    return hashlib.sha256(SALT + data).hexdigest()


class RuleCache:
    """A directory of JSON entries; ``None`` root disables caching."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        assert self.root is not None  # noqa: S101 - narrows the type: callers check root first
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        if self.root is None:
            return None
        try:
            with self._path(key).open("rb") as fh:
                entry = json.loads(fh.read())
        except (OSError, ValueError):
            self.misses += 1
            return None
        if not isinstance(entry, dict) or entry.get("key") != key:
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def put(self, key: str, docs: list[dict[str, Any]], errors: list[list[str]]) -> None:
        if self.root is None:
            return
        path = self._path(key)
        tmp = ""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(
                    {"key": key, "docs": docs, "errors": errors},
                    fh,
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
            Path(tmp).replace(path)
        except (OSError, TypeError, ValueError):
            # a cache that cannot be written only costs speed next time (and leaves no
            # half-written entry: a full disk must not litter the home)
            if tmp:
                Path(tmp).unlink(missing_ok=True)
            return
