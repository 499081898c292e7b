"""Hashed character n-grams of URL parts, vectorised with NumPy.

The same idea as scikit-learn's ``HashingVectorizer`` (no vocabulary: an n-gram is only
ever a bucket number, so the artefact holds no string from the training data), computed
over a padded byte matrix instead of one Python call per URL: ``HashingVectorizer`` alone
manages ~20k URLs/s here, the whole scorer has to beat that.

Each part (host, path+query) is hashed into its own namespace of the same ``2**bits``
buckets; each n-gram occurrence weighs ``1/sqrt(number of n-grams of that part)``, so a
part's total weight does not grow with its length. Invalid positions point at bucket
``2**bits``, a weight slot that is always zero, so a linear score is a gather and a sum.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
F32 = NDArray[np.float32]
#: Longest stretch of a part that is read for n-grams (lengths count in full elsewhere).
MAX_PART = 256
BOUNDARY = 2  # byte written before and after a part (STX: never in a valid URL)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def encode(texts: Sequence[str]) -> tuple[NDArray[np.uint8], IntArray]:
    """Padded byte matrix of ``\\x02text\\x02`` (UTF-8, cut at ``MAX_PART``) and lengths."""
    raw = [b"\x02" + t.encode("utf-8", "replace")[:MAX_PART] + b"\x02" for t in texts]
    lengths = np.fromiter((len(b) for b in raw), dtype=np.int64, count=len(raw))
    width = int(lengths.max()) if len(raw) else 0
    codes = np.zeros((len(raw), max(width, 1)), dtype=np.uint8)
    if width == 0:
        return codes, lengths
    flat = np.frombuffer(b"".join(raw), dtype=np.uint8)
    rows = np.repeat(np.arange(len(raw)), lengths)
    starts = np.cumsum(lengths) - lengths
    cols = np.arange(flat.size) - np.repeat(starts, lengths)
    codes[rows, cols] = flat
    return codes, lengths


def hashed(
    texts: Sequence[str],
    ngram_range: tuple[int, int],
    bits: int,
    salt: int,
    with_codes: bool = False,
) -> tuple[IntArray, F32, IntArray | None]:
    """Buckets (N, K) of every n-gram (``2**bits`` where there is none), the per-row
    weight of one occurrence, and (``with_codes``) the packed n-gram codes, -1 where
    there is none, for explanations. Each n-gram code extends the (n-1)-gram codes by one
    byte, so the packing costs one shift and one or per position and length."""
    codes, lengths = encode(texts)
    n_rows, width = codes.shape
    buckets: list[IntArray] = []
    packs: list[IntArray] = []
    counts = np.zeros(n_rows, dtype=np.int64)
    wide = codes.astype(np.int64)
    lo, hi = ngram_range
    packed = wide.copy()
    shift = np.uint64(64 - bits)
    for n in range(1, hi + 1):
        w = width - n + 1
        if w <= 0:
            break
        if n > 1:
            packed = (packed[:, :w] << 8) | wide[:, n - 1 : n - 1 + w]
        if n < lo:
            continue
        mask = np.arange(w)[None, :] + n <= lengths[:, None]
        tagged = packed + ((n << 41) + (salt << 45))
        b = ((tagged.astype(np.uint64) * _GOLDEN) >> shift).astype(np.int64)
        b[~mask] = 1 << bits
        buckets.append(b)
        if with_codes:
            packs.append(np.where(mask, tagged, -1))
        counts += mask.sum(1)
    if not buckets:
        empty = np.full((n_rows, 1), 1 << bits, dtype=np.int64)
        none = np.full((n_rows, 1), -1, dtype=np.int64) if with_codes else None
        return empty, np.ones(n_rows, dtype=np.float32), none
    weight = (1.0 / np.sqrt(np.maximum(counts, 1))).astype(np.float32)
    codes_out = np.concatenate(packs, axis=1) if with_codes else None
    return np.concatenate(buckets, axis=1), weight, codes_out


def decode(packed: int) -> str:
    """The text of one packed n-gram; ``^`` / ``$`` mark the start / end of the part.

    >>> b, _, p = hashed(["ab"], (3, 3), 10, 0, with_codes=True)
    >>> [decode(int(x)) for x in p[0] if x >= 0]
    ['^ab', 'ab$']
    """
    n = (packed >> 41) & 0xF
    value = packed & ((1 << 41) - 1)
    text = value.to_bytes(n, "big").decode("utf-8", "replace")
    if text.startswith("\x02"):
        text = "^" + text[1:]
    if text.endswith("\x02"):
        text = text[:-1] + "$"
    return text
