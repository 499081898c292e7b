"""Robust training against evasion: malicious rows copied at random within a ball.

An evasion attacker moves a malicious name's features the shortest way across the decision
boundary. Trees fitted on the data alone put that boundary wherever the classes happen to
stop, often hugging the malicious points. Copying each malicious row ``copies`` times,
each copy moved by a random vector of at most ``radius`` (L2, in units of each feature's
range over the training rows) in the features the attacker controls, and keeping the label,
teaches the trees that the neighbourhood of a malicious name is malicious too: the boundary
moves out to about ``radius`` in every direction, not only in the ones an attack happens to
try, and at no cost at scoring time. What it costs is benign names that lie within
``radius`` of a malicious one: ``garrison models redteam dga`` measures both.

Undefined features (NaN: a name without word pairs) stay undefined in the copies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class BallAugment:
    #: L2 radius in units of each feature's range; 0 turns the defence off.
    radius: float = 0.0
    copies: int = 3
    #: Keep only copies nearer to their own row than to any benign training row, so the
    #: boundary moves out into empty space, not into benign names.
    guard: bool = True

    def apply(
        self,
        x: NDArray[np.floating],
        y: NDArray[np.int64],
        weights: F64,
        controlled: NDArray[np.bool_],
        rng: np.random.Generator,
    ) -> tuple[F64, NDArray[np.int64], F64]:
        """Rows, labels and weights with the copies appended; each malicious row and its
        copies share the row's weight, so the classes keep their balance."""
        rows: F64 = np.asarray(x, dtype=np.float64)
        if self.radius <= 0 or self.copies <= 0 or not (y == 1).any():
            return rows, y, weights
        lo, hi = np.nanmin(rows, axis=0), np.nanmax(rows, axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        mal = np.flatnonzero(y == 1)
        share = 1.0 / (self.copies + 1)
        w = weights.astype(np.float64).copy()
        w[mal] *= share
        moved = np.vstack([self._moved(rows[mal], controlled, lo, hi, span, rng) for _ in
                           range(self.copies)])  # fmt: skip
        source = np.tile(mal, self.copies)
        if self.guard and (y == 0).any():
            keep = _nearer_own(moved, rows[source], rows[y == 0], lo, span)
            moved, source = moved[keep], source[keep]
        x_out = np.vstack([rows, moved])
        y_out = np.concatenate([y, np.ones(len(source), dtype=y.dtype)])
        w_out = np.concatenate([w, w[source]])
        return x_out, y_out, w_out

    def _moved(
        self, rows: F64, controlled: NDArray[np.bool_], lo: F64, hi: F64, span: F64,
        rng: np.random.Generator,
    ) -> F64:  # fmt: skip
        n, d = rows.shape
        free = controlled[None, :] & ~np.isnan(rows)
        direction = rng.standard_normal((n, d)) * free
        norm = np.linalg.norm(direction, axis=1, keepdims=True)
        direction /= np.where(norm > 0, norm, 1.0)
        k = np.maximum(free.sum(1, keepdims=True), 1)
        length = self.radius * rng.random((n, 1)) ** (1.0 / k)
        moved = rows + direction * length * span
        return np.where(np.isnan(rows), rows, np.clip(moved, lo, hi))


def _nearer_own(moved: F64, own: F64, benign: F64, lo: F64, span: F64) -> NDArray[np.bool_]:
    """Copies whose own source row is nearer (scaled L2) than the nearest benign row."""
    from sklearn.neighbors import NearestNeighbors

    def scaled(rows: F64) -> F64:
        return np.nan_to_num((rows - lo) / span, nan=-0.05)

    index = NearestNeighbors(n_neighbors=1).fit(scaled(benign))
    to_benign = index.kneighbors(scaled(moved))[0][:, 0]
    to_own = np.linalg.norm(scaled(moved) - scaled(own), axis=1)
    return np.asarray(to_own < to_benign, dtype=bool)
