"""Domain labels as small-integer matrices, and their character n-grams, all vectorised.

Scoring has to keep up with resolver logs (tens of thousands of names a second on one
core), so every feature is computed with NumPy over a padded code matrix rather than one
Python loop per name. Codes: ``a``-``z`` 1-26, ``0``-``9`` 27-36, ``-`` 37, anything else
38, the start/end marker 39, padding 0; ``BASE`` is the radix used to pack n-grams.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

BASE = 40
PAD = 0
OTHER = 38
BOUNDARY = 39
VOWELS = np.array([1, 5, 9, 15, 21], dtype=np.uint8)  # a e i o u

_LUT = np.full(256, OTHER, dtype=np.uint8)
for _i, _c in enumerate(b"abcdefghijklmnopqrstuvwxyz"):
    _LUT[_c] = _i + 1
for _i, _c in enumerate(b"0123456789"):
    _LUT[_c] = 27 + _i
_LUT[ord("-")] = 37
_LUT[ord("A") : ord("Z") + 1] = _LUT[ord("a") : ord("z") + 1]

#: Code -> character, for turning n-gram codes back into text in explanations.
ALPHABET = "\0abcdefghijklmnopqrstuvwxyz0123456789-?^"

IntArray = NDArray[np.int64]
CodeMatrix = NDArray[np.uint8]


def encode(names: Sequence[str]) -> tuple[CodeMatrix, IntArray]:
    """Padded code matrix (N, max length) and the lengths of ``names``.

    >>> codes, lengths = encode(["ab", "z-9"])
    >>> codes.tolist(), lengths.tolist()
    ([[1, 2, 0], [26, 37, 36]], [2, 3])
    """
    raw = [n.encode("ascii", "replace") for n in names]
    lengths = np.fromiter((len(b) for b in raw), dtype=np.int64, count=len(raw))
    width = int(lengths.max()) if len(raw) else 0
    codes = np.zeros((len(raw), max(width, 1)), dtype=np.uint8)
    if width == 0:
        return codes, lengths
    flat = _LUT[np.frombuffer(b"".join(raw), dtype=np.uint8)]
    rows = np.repeat(np.arange(len(raw)), lengths)
    starts = np.cumsum(lengths) - lengths
    cols = np.arange(flat.size) - np.repeat(starts, lengths)
    codes[rows, cols] = flat
    return codes, lengths


def with_boundaries(codes: CodeMatrix, lengths: IntArray) -> CodeMatrix:
    """``^name$`` form: a boundary code before the first and after the last character."""
    n, width = codes.shape
    out = np.zeros((n, width + 2), dtype=np.uint8)
    out[:, 0] = BOUNDARY
    out[:, 1 : width + 1] = codes
    out[np.arange(n), lengths + 1] = BOUNDARY
    return out


def ngram_codes(
    bounded: CodeMatrix, lengths: IntArray, n: int
) -> tuple[IntArray, NDArray[np.bool_]]:
    """Packed codes of every n-gram of ``^name$`` and the mask of real (non-padding) ones."""
    width = bounded.shape[1] - n + 1
    if width <= 0:
        return (
            np.zeros((bounded.shape[0], 0), dtype=np.int64),
            np.zeros((bounded.shape[0], 0), dtype=bool),
        )
    packed = np.zeros((bounded.shape[0], width), dtype=np.int64)
    for j in range(n):
        packed = packed * BASE + bounded[:, j : j + width]
    mask = np.arange(width)[None, :] + n <= (lengths + 2)[:, None]
    return packed + n * BASE**6, mask


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def bucket(packed: IntArray, bits: int) -> IntArray:
    """Multiplicative hash of packed n-gram codes into ``2**bits`` buckets."""
    mixed = packed.astype(np.uint64) * _GOLDEN
    return (mixed >> np.uint64(64 - bits)).astype(np.int64)


def decode_ngram(packed: int) -> str:
    """The text of one packed n-gram code: ``^`` marks the start of the label, ``$`` its end.

    >>> codes, lengths = encode(["ab"])
    >>> packed, _ = ngram_codes(with_boundaries(codes, lengths), lengths, 3)
    >>> [decode_ngram(int(p)) for p in packed[0]]
    ['^ab', 'ab$']
    """
    n = int(packed // BASE**6)
    value = int(packed - n * BASE**6)
    chars: list[str] = []
    for _ in range(n):
        value, code = divmod(value, BASE)
        chars.append(ALPHABET[code])
    chars.reverse()
    return "".join(("^" if i == 0 else "$") if c == "^" else c for i, c in enumerate(chars))


def hashed_ngrams(
    names_codes: CodeMatrix, lengths: IntArray, ngram_range: tuple[int, int], bits: int
) -> tuple[IntArray, IntArray, NDArray[np.bool_]]:
    """Buckets, packed codes and validity mask of all n-grams, concatenated over n.

    Invalid positions point at bucket ``2**bits`` (a weight slot that is always zero), so
    a linear score is a plain gather and sum.
    """
    bounded = with_boundaries(names_codes, lengths)
    buckets: list[IntArray] = []
    packs: list[IntArray] = []
    masks: list[NDArray[np.bool_]] = []
    for n in range(ngram_range[0], ngram_range[1] + 1):
        packed, mask = ngram_codes(bounded, lengths, n)
        b = bucket(packed, bits)
        b[~mask] = 1 << bits
        buckets.append(b)
        packs.append(packed)
        masks.append(mask)
    return (
        np.concatenate(buckets, axis=1),
        np.concatenate(packs, axis=1),
        np.concatenate(masks, axis=1),
    )
