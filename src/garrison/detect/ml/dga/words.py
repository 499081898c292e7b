"""Dictionary-word segmentation of domain labels, vectorised, for dictionary-DGA features.

Dictionary DGAs (matsnu, rovnix, suppobox, gozi) concatenate real words, so character
statistics call them benign. What gives them away is *how* they are made of words: many
words, each a plausible English word, covering the whole label. A minimum-cost segmentation
(cost = -log word frequency, a fixed penalty per character no word covers) yields the
number of words, their lengths and the share of the label they cover.

The word list is English unigrams with their frequencies from the ``wordsegment`` package
(Apache-2.0), kept only where the word is also in its dictionary list, read at training
time. The model artefact stores 64-bit hashes of the words and their costs, not the words,
so scoring needs no word list and nothing is downloaded. Hashes are polynomial rolling
hashes over the label codes (mod 2**64), so every substring's hash comes from two prefix
hashes and the whole batch is looked up at once in an open-addressing table.
"""

from __future__ import annotations

import importlib.resources
import math
from dataclasses import dataclass
from importlib.resources.abc import Traversable

import numpy as np
from numpy.typing import NDArray

from garrison.detect.ml.dga.encoding import CodeMatrix, IntArray, encode

_HASH_BASE = np.uint64(1_000_003)
U64 = NDArray[np.uint64]
F32 = NDArray[np.float32]


def prefix_hashes(codes: CodeMatrix) -> U64:
    """(N, L+1) prefix hashes: ``H[:, i]`` hashes the first ``i`` characters."""
    n, width = codes.shape
    out = np.zeros((n, width + 1), dtype=np.uint64)
    for j in range(width):
        out[:, j + 1] = out[:, j] * _HASH_BASE + codes[:, j].astype(np.uint64)
    return out


def _powers(k: int) -> np.uint64:
    value = np.array([1], dtype=np.uint64)
    for _ in range(k):
        value = value * _HASH_BASE
    return np.uint64(value[0])


def word_hashes(words: list[str]) -> U64:
    """The hash of each whole word, as ``prefix_hashes`` computes it."""
    codes, lengths = encode(words)
    prefix = prefix_hashes(codes)
    return prefix[np.arange(len(words)), lengths]


@dataclass(slots=True)
class WordTable:
    """Word hashes and costs in an open-addressing hash table (linear probing)."""

    keys: U64
    costs: F32
    lengths: IntArray
    unknown_cost: float
    max_len: int
    #: Adjacent-word pairs (see ``pair_hash``) -> pointwise mutual information.
    pairs: PairTable | None = None

    @classmethod
    def build(cls, hashes: U64, costs: F32, lengths: IntArray, unknown_cost: float) -> WordTable:
        size = 1 << max(10, math.ceil(math.log2(max(len(hashes), 1) * 4)))
        keys = np.zeros(size, dtype=np.uint64)
        table_costs = np.full(size, np.inf, dtype=np.float32)
        table_lengths = np.zeros(size, dtype=np.int64)
        mask = size - 1
        for h, c, n in zip(hashes.tolist(), costs.tolist(), lengths.tolist(), strict=True):
            if h == 0:
                continue
            slot = _slot(h) & mask
            while keys[slot] != 0 and keys[slot] != h:
                slot = (slot + 1) & mask
            if keys[slot] == h:  # the same hash twice: keep the cheaper word
                table_costs[slot] = min(table_costs[slot], c)
                continue
            keys[slot] = h
            table_costs[slot] = c
            table_lengths[slot] = n
        return cls(
            keys,
            table_costs,
            table_lengths,
            unknown_cost,
            int(lengths.max()) if len(lengths) else 0,
        )

    def lookup(self, hashes: U64) -> F32:
        """Cost of each hash's word, ``inf`` where it is no word (1-D input)."""
        mask = np.uint64(len(self.keys) - 1)
        slot = _slots(hashes) & mask
        found = self.keys[slot]
        hit = found == hashes
        out = np.where(hit, self.costs[slot], np.float32(np.inf)).astype(np.float32)
        idx = np.flatnonzero(~hit & (found != 0))
        slot = slot[idx]
        while idx.size:  # collisions: probe on, only for the few that need it
            slot = (slot + np.uint64(1)) & mask
            found = self.keys[slot]
            hit = found == hashes[idx]
            out[idx[hit]] = self.costs[slot[hit]]
            keep = ~hit & (found != 0)
            idx = idx[keep]
            slot = slot[keep]
        return out


@dataclass(slots=True)
class PairTable:
    """Open-addressing table of word-pair hashes -> PMI (same layout as WordTable).

    Keys are kept to their top 32 bits (stored as ``uint32``): with ~250k pairs a random
    miss matches with probability ~6e-5, and the artefact is half the size.
    """

    keys: U64
    values: F32

    @classmethod
    def build(cls, keys32: NDArray[np.uint32], values: F32) -> PairTable:
        table = WordTable.build(
            _widen(keys32), values.astype(np.float32), np.zeros(len(keys32), dtype=np.int64), 0.0
        )
        return cls(table.keys, table.costs)

    def lookup(self, hashes: U64) -> F32:
        """PMI of each pair, NaN where the pair is not in the table."""
        table = WordTable(self.keys, self.values, np.zeros(0, dtype=np.int64), 0.0, 0)
        out = table.lookup(_widen(fold32(hashes)))
        out[np.isinf(out)] = np.nan
        return out


def fold32(hashes: U64) -> NDArray[np.uint32]:
    return (hashes >> np.uint64(32)).astype(np.uint32)


def _widen(keys32: NDArray[np.uint32]) -> U64:
    """A non-zero 64-bit key for each 32-bit key (the tables use 0 for empty slots)."""
    return (keys32.astype(np.uint64) << np.uint64(32)) | np.uint64(1)


_PAIR_MIX = np.uint64(0x100000001B3)


def pair_hash(left: U64, right: U64) -> U64:
    """Hash of the ordered pair of word hashes (never 0 for non-zero inputs in practice)."""
    return (left * _PAIR_MIX) ^ (right + np.uint64(0x9E3779B97F4A7C15))


def _slot(h: int) -> int:
    return ((h * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> 32


def _slots(h: U64) -> U64:
    return (h * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)


#: Names of the segmentation features, in column order.
SEGMENT_FEATURES = (
    "words_n",
    "words_coverage",
    "words_mean_len",
    "words_max_len",
    "words_cost_per_char",
    "words_unknown_chars",
    "words_n_long",
    "words_mean_cost",
    "words_n_common",
    "pairs_known_share",
    "pairs_mean_pmi",
    "pairs_min_pmi",
)

#: A word costing less than this (-ln frequency) is "common": about the 100 most frequent
#: English words (the, and, of, that, are ...), which names rarely string together.
COMMON_WORD_COST = 7.15


def segment_features(codes: CodeMatrix, lengths: IntArray, table: WordTable) -> NDArray[np.float32]:
    """Minimum-cost word segmentation of every label, summarised as SEGMENT_FEATURES."""
    n, width = codes.shape
    out = np.zeros((n, len(SEGMENT_FEATURES)), dtype=np.float32)
    if n == 0 or width == 0:
        return out
    prefix = prefix_hashes(codes)
    max_k = min(table.max_len, width)
    # cost_k[k][:, i] = cost of the word spanning [i, i+k), inf if none
    word_cost: dict[int, F32] = {}
    for k in range(2, max_k + 1):
        valid = np.arange(width - k + 1)[None, :] + k <= lengths[:, None]
        rows, cols = np.nonzero(valid)
        h = prefix[rows, cols + k] - prefix[rows, cols] * _powers(k)
        cost = np.full((n, width - k + 1), np.inf, dtype=np.float32)
        cost[rows, cols] = table.lookup(h)
        word_cost[k] = cost
    best = np.full((n, width + 1), np.inf, dtype=np.float32)
    best[:, 0] = 0.0
    back = np.ones((n, width + 1), dtype=np.int8)
    for j in range(1, width + 1):
        cur = best[:, j - 1] + np.float32(table.unknown_cost)
        arg = np.ones(n, dtype=np.int8)
        for k in range(2, min(max_k, j) + 1):
            cand = best[:, j - k] + word_cost[k][:, j - k]
            better = cand < cur
            cur = np.where(better, cand, cur)
            arg[better] = k
        best[:, j] = cur
        back[:, j] = arg
    rows = np.arange(n)
    pos = lengths.copy()
    acc = _Backtrack(n)
    right = np.zeros(n, dtype=np.uint64)  # hash of the word to the right, 0 if none
    active = pos > 0
    while active.any():
        step = np.where(active, back[rows, np.maximum(pos, 0)], 0).astype(np.int64)
        is_word = active & (step >= 2)
        current = np.zeros(n, dtype=np.uint64)
        for size in np.unique(step[is_word]).tolist():
            sel = np.flatnonzero(is_word & (step == size))
            start = pos[sel] - size
            cost = word_cost[size][sel, start]
            acc.word_costs[sel] += cost
            acc.common[sel] += cost < COMMON_WORD_COST
            current[sel] = prefix[sel, pos[sel]] - prefix[sel, start] * _powers(size)
        if table.pairs is not None:
            acc.add_pairs(table.pairs, current, right, is_word)
        right = np.where(is_word, current, np.uint64(0))
        acc.n_words += is_word
        acc.covered += np.where(is_word, step, 0)
        acc.longest = np.maximum(acc.longest, np.where(is_word, step, 0))
        acc.n_long += is_word & (step >= 4)
        acc.unknown += active & (step == 1)
        pos = pos - step
        active = pos > 0
    acc.write(out, best[rows, lengths], lengths, table.unknown_cost)
    return out


class _Backtrack:
    """Running sums while walking each best segmentation from its end."""

    def __init__(self, n: int) -> None:
        zeros = np.zeros(n, dtype=np.float32)
        self.n_words, self.covered, self.longest = zeros.copy(), zeros.copy(), zeros.copy()
        self.n_long, self.unknown, self.word_costs = zeros.copy(), zeros.copy(), zeros.copy()
        self.common, self.pairs, self.known = zeros.copy(), zeros.copy(), zeros.copy()
        self.pmi_sum = zeros.copy()
        self.pmi_min = np.full(n, np.inf, dtype=np.float32)

    def add_pairs(
        self, pairs: PairTable, current: U64, right: U64, is_word: NDArray[np.bool_]
    ) -> None:
        both = np.flatnonzero(is_word & (right != 0))
        if both.size == 0:
            return
        pmi = pairs.lookup(pair_hash(current[both], right[both]))
        self.pairs[both] += 1
        hit = ~np.isnan(pmi)
        self.known[both[hit]] += 1
        self.pmi_sum[both[hit]] += pmi[hit]
        self.pmi_min[both[hit]] = np.minimum(self.pmi_min[both[hit]], pmi[hit])

    def write(self, out: F32, best: F32, lengths: IntArray, unknown_cost: float) -> None:
        safe_len = np.maximum(lengths, 1).astype(np.float32)
        some = self.n_words > 0
        out[:, 0] = self.n_words
        out[:, 1] = self.covered / safe_len
        out[:, 2] = np.where(some, self.covered / np.maximum(self.n_words, 1), 0.0)
        out[:, 3] = self.longest
        out[:, 4] = best / safe_len
        out[:, 5] = self.unknown
        out[:, 6] = self.n_long
        out[:, 7] = np.where(some, self.word_costs / np.maximum(self.n_words, 1), unknown_cost)
        out[:, 8] = self.common
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, 9] = np.where(self.pairs > 0, self.known / self.pairs, np.nan)
            out[:, 10] = np.where(self.known > 0, self.pmi_sum / self.known, np.nan)
        out[:, 11] = np.where(self.known > 0, self.pmi_min, np.nan)


def _wordsegment() -> Traversable:
    """The installed ``wordsegment`` package's data (a training-time dependency only)."""
    try:
        return importlib.resources.files("wordsegment")
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "training the DGA model needs the word list of the 'wordsegment' package: "
            "pip install wordsegment==1.3.1"
        ) from exc


def load_wordsegment(
    n_words: int, n_short: int, min_len: int = 3, max_len: int = 12
) -> tuple[list[str], NDArray[np.float32]]:
    """Words and costs (-ln relative frequency) from the installed ``wordsegment`` package.

    Keeps the ``n_words`` most frequent words of ``min_len``..``max_len`` letters that are
    also in the package's dictionary list, plus its ``n_short`` most frequent two-letter
    words (of, to, in ...): web unigrams hold every two-letter string, which would let any
    random label segment into "words".
    """
    pkg = _wordsegment()
    dictionary = set(pkg.joinpath("words.txt").read_text(encoding="utf-8").split())
    words: list[str] = []
    counts: list[float] = []
    short = 0
    total = 0.0
    for line in pkg.joinpath("unigrams.txt").read_text(encoding="utf-8").splitlines():
        word, _, count = line.partition("\t")
        total += float(count)
        if not word.isascii() or not word.isalpha() or word not in dictionary:
            continue
        if len(word) == 2 and short < n_short:
            short += 1
        elif not (min_len <= len(word) <= max_len) or len(words) - short >= n_words:
            continue
        words.append(word)
        counts.append(float(count))
    costs = -np.log(np.asarray(counts, dtype=np.float64) / total)
    return words, costs.astype(np.float32)


def load_bigrams(words: list[str]) -> tuple[NDArray[np.uint32], NDArray[np.float16]]:
    """Pair hashes and PMI of the ``wordsegment`` bigrams whose two words are both in
    ``words``. PMI = ln(c(ab) N / (c(a) c(b))) with unigram counts and total N: positive for
    collocations ("heard of"), negative for word salad ("the and")."""
    pkg = _wordsegment()
    unigram: dict[str, float] = {}
    total = 0.0
    for line in pkg.joinpath("unigrams.txt").read_text(encoding="utf-8").splitlines():
        word, _, count = line.partition("\t")
        unigram[word] = float(count)
        total += float(count)
    vocabulary = set(words)
    lefts: list[str] = []
    rights: list[str] = []
    pmis: list[float] = []
    for line in pkg.joinpath("bigrams.txt").read_text(encoding="utf-8").splitlines():
        pair, _, count = line.partition("\t")
        a, _, b = pair.partition(" ")
        if a in vocabulary and b in vocabulary and a in unigram and b in unigram:
            lefts.append(a)
            rights.append(b)
            pmis.append(math.log(float(count) * total / (unigram[a] * unigram[b])))
    hashes = (
        pair_hash(word_hashes(lefts), word_hashes(rights))
        if lefts
        else np.zeros(0, dtype=np.uint64)
    )
    return fold32(hashes), np.asarray(pmis, dtype=np.float16)
