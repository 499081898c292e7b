"""Nearest past incidents by cosine similarity, with a usearch HNSW index.

The SQLite state holds every incident's embedding and is the source of truth; the usearch
index file beside it (``HOME/incidents.usearch``) is a cache that is rebuilt from SQLite
whenever it is missing, unreadable or out of step, so a crash between the two writes
costs a rebuild, never a wrong answer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from usearch.index import Index

from garrison.correlate.embed import DIM

log = logging.getLogger(__name__)


class SimilarIndex:
    def __init__(self, path: Path | None = None, dim: int = DIM) -> None:
        self.path = path
        self.dim = dim
        self.index = Index(ndim=dim, metric="cos", dtype="f32")

    def __len__(self) -> int:
        return len(self.index)

    def load(self, stored: Iterable[tuple[int, npt.NDArray[np.float32]]], expected: int) -> None:
        """Restore the index file if it matches ``expected`` entries, else rebuild it."""
        if self.path is not None and self.path.is_file():
            try:
                restored = Index.restore(str(self.path))
            except Exception as exc:  # a corrupt cache must only cost a rebuild
                log.warning("incident index %s unreadable (%s): rebuilding", self.path, exc)
                restored = None
            if restored is not None and restored.ndim == self.dim and len(restored) == expected:
                self.index = restored
                return
        self.index = Index(ndim=self.dim, metric="cos", dtype="f32")
        items = list(stored)
        if items:
            keys = np.array([k for k, _ in items], dtype=np.uint64)
            vecs = np.stack([v for _, v in items]).astype(np.float32)
            self.index.add(keys, vecs)
        self.save()

    def upsert(self, key: int, vec: npt.NDArray[np.float32]) -> None:
        if self.index.contains(key):
            self.index.remove(key)
        self.index.add(key, vec.astype(np.float32))

    def remove(self, key: int) -> None:
        if self.index.contains(key):
            self.index.remove(key)

    def search(
        self, vec: npt.NDArray[np.float32], k: int, exclude: Iterable[int] = ()
    ) -> list[tuple[int, float]]:
        """Up to ``k`` (key, cosine similarity) pairs, best first, skipping ``exclude``."""
        if k <= 0 or len(self.index) == 0:
            return []
        skip = set(exclude)
        matches = self.index.search(vec.astype(np.float32), min(len(self.index), k + len(skip)))
        out: list[tuple[int, float]] = []
        for key, dist in zip(matches.keys, matches.distances, strict=True):
            if int(key) in skip:
                continue
            out.append((int(key), round(1.0 - float(dist), 4)))
            if len(out) == k:
                break
        return out

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        self.index.save(str(tmp))
        tmp.replace(self.path)
