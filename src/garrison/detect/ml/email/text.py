"""Hashed word and character n-grams of subject and body.

The text is normalised first so the model learns words, not one corpus's addresses: URLs
become ``urltok``, e-mail addresses ``mailtok``, digits ``0``, and the corpus's anonymisation
marks (``zzzz``, ``yyyy``, ``qqqq...``, ``taint.org``) disappear. Terms are hashed
(scikit-learn's ``HashingVectorizer``, no vocabulary): the artefact holds one weight per
bucket and no literal text. Counts go through log1p and each block is L2-normalised, so a
message's value for a bucket times the bucket's weight is its exact contribution; the
explanation names the message's own terms that fell into its heaviest buckets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize
from sklearn.utils import murmurhash3_32

#: Characters of normalised text the n-grams see.
MAX_NGRAM_TEXT = 20_000
_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
_MAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_ARTEFACT = re.compile(r"\b(?:z{4,}|y{4,}|q{4,}|x{6,})\w*|taint\.org", re.I)
_DIGIT = re.compile(r"\d")


def normalise(subject: str, text: str) -> str:
    joined = (subject + "\n" + text)[: MAX_NGRAM_TEXT * 2].lower()
    joined = _URL.sub(" urltok ", joined)
    joined = _MAIL.sub(" mailtok ", joined)
    joined = _ARTEFACT.sub(" ", joined)
    joined = _DIGIT.sub("0", joined)
    return joined[:MAX_NGRAM_TEXT]


@dataclass(frozen=True)
class TextHasher:
    """Stateless: the same parameters give the same columns on any machine."""

    word_bits: int = 18
    char_bits: int = 18
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (3, 5)

    @cached_property
    def word(self) -> HashingVectorizer:
        return HashingVectorizer(
            n_features=1 << self.word_bits,
            ngram_range=self.word_ngrams,
            alternate_sign=False,
            norm=None,
            token_pattern=r"(?u)\b[a-z0][a-z0'$€£-]{1,30}\b|[$€£!]",  # noqa: S106 - a regex named token_pattern, no secret
            lowercase=False,
            dtype=np.float64,
        )

    @cached_property
    def char(self) -> HashingVectorizer:
        return HashingVectorizer(
            n_features=1 << self.char_bits,
            analyzer="char_wb",
            ngram_range=self.char_ngrams,
            alternate_sign=False,
            norm=None,
            lowercase=False,
            dtype=np.float64,
        )

    def transform(self, docs: list[str]) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """(word block, char block), each log1p-counted and L2-normalised per row."""
        return _scale(self.word.transform(docs)), _scale(self.char.transform(docs))

    def terms(self, doc: str, which: str) -> dict[int, list[str]]:
        """Bucket -> the terms of ``doc`` hashed into it (for explanations)."""
        vec = self.word if which == "word" else self.char
        n = vec.n_features
        out: dict[int, list[str]] = {}
        for term in vec.build_analyzer()(doc):
            bucket = _bucket(term, n)
            seen = out.setdefault(bucket, [])
            if term not in seen and len(seen) < 3:
                seen.append(term)
        return out

    def to_json(self) -> dict[str, object]:
        return {
            "word_bits": self.word_bits,
            "char_bits": self.char_bits,
            "word_ngrams": list(self.word_ngrams),
            "char_ngrams": list(self.char_ngrams),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> TextHasher:
        def pair(value: object) -> tuple[int, int]:
            items = list(value) if isinstance(value, list | tuple) else []
            return int(items[0]), int(items[1])

        word_bits, char_bits = data["word_bits"], data["char_bits"]
        if not isinstance(word_bits, int) or not isinstance(char_bits, int):
            raise ValueError("text hasher: bits must be integers")
        return cls(word_bits, char_bits, pair(data["word_ngrams"]), pair(data["char_ngrams"]))


def _bucket(term: str, n_features: int) -> int:
    """The column scikit-learn's HashingVectorizer gives ``term`` (signed murmur3, seed 0)."""
    h = murmurhash3_32(term, seed=0, positive=False)
    return int(abs(h) % n_features) if h != -(2**31) else int((2**31 - 1) % n_features)


def _scale(x: sparse.csr_matrix) -> sparse.csr_matrix:
    x = x.tocsr()
    x.data = np.log1p(x.data)
    scaled: sparse.csr_matrix = normalize(x, norm="l2", copy=False)
    return scaled


def nonzero_terms(row: sparse.csr_matrix) -> NDArray[np.int64]:
    return np.asarray(row.indices, dtype=np.int64)
