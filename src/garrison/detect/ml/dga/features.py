"""Named, engineered features of a domain label, each computed for a whole batch at once.

The features are chosen to describe *how* a name was made rather than which family made
it, so that they carry over to families the model never saw: length and digit/hyphen
make-up, vowel and consonant structure, character entropy, how likely the characters are
under a character model of benign names and English words (pronounceability), how the
label splits into dictionary words (see ``words``). Every feature has a name so that
explanations can cite it.

The public suffix is deliberately *not* a feature. TLD priors learned from this corpus
mirror its make-up (benign lists mostly ``.com``; each DGA family the TLDs its author
picked), not anything a new family must share: with suffix features the trees leaned on
them heavily, and leaving them out raised leave-family-out recall at 1 % FPR on the
dictionary families (matsnu 0.46 -> 0.52, rovnix 0.40 -> 0.50; both held out together
0.25/0.31 -> 0.45/0.48) for a small loss on pushdo and conficker, whose TLDs are unusual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from garrison.detect.ml.dga.encoding import (
    BASE,
    VOWELS,
    CodeMatrix,
    IntArray,
    with_boundaries,
)
from garrison.detect.ml.dga.words import SEGMENT_FEATURES, WordTable, segment_features

F32 = NDArray[np.float32]

BASIC_FEATURES = (
    "length",
    "digit_ratio",
    "max_digit_run",
    "hyphens",
    "vowel_ratio",
    "max_consonant_run",
    "entropy",
    "unique_ratio",
    "digit_letter_switches",
    "hex_only",
)
CHAR_FEATURES = ("char_logp_mean", "char_logp_min", "char_rare_share", "char_llr")
ENGINEERED = BASIC_FEATURES + CHAR_FEATURES + SEGMENT_FEATURES

#: A transition with probability below this counts as rare (``char_rare_share``).
_RARE_LOGP = float(np.log(2e-3))


def _max_run(mask: NDArray[np.bool_]) -> F32:
    run = np.zeros(mask.shape[0], dtype=np.float32)
    best = np.zeros(mask.shape[0], dtype=np.float32)
    for j in range(mask.shape[1]):
        run = (run + 1) * mask[:, j]
        np.maximum(best, run, out=best)
    return best


def basic_features(codes: CodeMatrix, lengths: IntArray) -> F32:
    """BASIC_FEATURES for each label (columns in that order)."""
    n, width = codes.shape
    out = np.zeros((n, len(BASIC_FEATURES)), dtype=np.float32)
    if n == 0:
        return out
    valid = np.arange(width)[None, :] < lengths[:, None]
    letters = (codes >= 1) & (codes <= 26)
    digits = (codes >= 27) & (codes <= 36)
    vowels = np.isin(codes, VOWELS)
    consonants = letters & ~vowels
    safe = np.maximum(lengths, 1).astype(np.float32)
    n_letters = letters.sum(1)
    out[:, 0] = lengths
    out[:, 1] = digits.sum(1) / safe
    out[:, 2] = _max_run(digits)
    out[:, 3] = (codes == 37).sum(1)
    out[:, 4] = vowels.sum(1) / np.maximum(n_letters, 1)
    out[:, 5] = _max_run(consonants)
    counts = (
        np.bincount((np.arange(n)[:, None] * BASE + codes)[valid], minlength=n * BASE)
        .reshape(n, BASE)
        .astype(np.float32)
    )
    p = counts / safe[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, 6] = -np.where(p > 0, p * np.log2(np.where(p > 0, p, 1)), 0).sum(1)
    out[:, 7] = (counts > 0).sum(1) / safe
    alnum = letters | digits
    switch = (digits[:, 1:] != digits[:, :-1]) & alnum[:, 1:] & alnum[:, :-1]
    out[:, 8] = switch.sum(1)
    hexchars = (((codes >= 1) & (codes <= 6)) | digits) | ~valid
    out[:, 9] = (hexchars.all(1) & (lengths >= 8) & (digits.sum(1) > 0) & (n_letters > 0)).astype(
        np.float32
    )
    return out


@dataclass(slots=True)
class CharModel:
    """Order-2 character model: ``logp[a, b, c]`` = log P(c | a b) over ``^label$``."""

    logp: F32

    @classmethod
    def fit(
        cls,
        codes: CodeMatrix,
        lengths: IntArray,
        weights: NDArray[np.float64] | None = None,
        alpha: float = 0.05,
    ) -> CharModel:
        return cls.from_counts(trigram_counts(codes, lengths, weights), alpha)

    @classmethod
    def from_counts(cls, counts: NDArray[np.float64], alpha: float = 0.05) -> CharModel:
        smoothed = counts.reshape(BASE * BASE, BASE) + alpha
        logp = np.log(smoothed / smoothed.sum(1, keepdims=True))
        return cls(logp.reshape(-1).astype(np.float32))

    def features(self, codes: CodeMatrix, lengths: IntArray) -> F32:
        """CHAR_FEATURES: mean and minimum transition log-probability, share of rare ones,
        and the log-likelihood ratio of the benign model against a uniform random one.

        ``char_llr`` is the evidence a whole label gives for "written by people" over
        "drawn uniformly from its character class" (26 letters, 36 with digits, 37 with a
        hyphen), summed over its transitions. The mean alone says how unusual the
        characters are but not how much of them there is: five random letters are weak
        evidence, twenty-five strong. The sum puts short and long labels on one scale, so a
        rule learned on long random names carries over to short ones.
        """
        n = codes.shape[0]
        out = np.zeros((n, len(CHAR_FEATURES)), dtype=np.float32)
        if n == 0:
            return out
        idx, mask = _trigram_index(codes, lengths)
        lp = self.logp[idx]
        count = np.maximum(mask.sum(1), 1)
        total = np.where(mask, lp, 0).sum(1)
        out[:, 0] = total / count
        out[:, 1] = np.where(mask, lp, 0).min(1)
        out[:, 2] = (mask & (lp < _RARE_LOGP)).sum(1) / count
        alphabet = (
            26.0
            + 10.0 * ((codes >= 27) & (codes <= 36)).any(1)
            + 1.0 * (codes == 37).any(1)
            + 1.0  # the end of the label
        )
        out[:, 3] = total + mask.sum(1) * np.log(alphabet)
        return out


def _trigram_index(codes: CodeMatrix, lengths: IntArray) -> tuple[IntArray, NDArray[np.bool_]]:
    bounded = with_boundaries(codes, lengths).astype(np.int64)
    width = bounded.shape[1] - 2
    idx = (bounded[:, :width] * BASE + bounded[:, 1 : width + 1]) * BASE + bounded[:, 2:]
    mask = np.arange(width)[None, :] < (lengths + 1)[:, None]
    return idx, mask


def trigram_counts(
    codes: CodeMatrix, lengths: IntArray, weights: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Weighted trigram counts (flat, BASE**3) over ``^label$``."""
    idx, mask = _trigram_index(codes, lengths)
    w = np.ones(codes.shape[0]) if weights is None else weights
    return np.bincount(
        idx[mask], weights=np.broadcast_to(w[:, None], idx.shape)[mask], minlength=BASE**3
    ).astype(np.float64)


def engineered_features(
    codes: CodeMatrix,
    lengths: IntArray,
    suffixes: Sequence[str],
    char_model: CharModel,
    words: WordTable,
) -> F32:
    """All ENGINEERED features, in order, for one batch of labels.

    ``suffixes`` is part of the interface (a feature set may use it) but the current one
    does not: see the module docstring.
    """
    del suffixes
    return np.hstack(
        [
            basic_features(codes, lengths),
            char_model.features(codes, lengths),
            segment_features(codes, lengths, words),
        ]
    ).astype(np.float32)
