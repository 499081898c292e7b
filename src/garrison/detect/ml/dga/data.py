"""Training and evaluation data for the DGA model: labelled name lists, and generic synthetics.

Layout read by ``load_dataset`` (the corpus's ``dga`` folder has it): one ``FAMILY.txt``
per DGA family, one domain per line; benign lists are the files whose name starts with
``opendns``, ``benign`` or ``alexa``. ``others*.txt`` (mixed, unnamed families) is kept
apart as a cross-source test set. Held-out benign lists (plain text, or JSON lists of
objects with ``rootDomain``) are read with ``read_names``.

The synthetic generators make *generic* DGA-like names (random letters, random
alphanumerics, hex digests, random concatenations of common English words) from nothing but
a seeded RNG and the word list; they encode "what a DGA can look like", not any real
family's algorithm. They are a prior chosen by people who know DGA families exist, so the
evaluation reports leave-family-out figures with and without them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from garrison.detect.ml.domains import parse_domain

BENIGN_PREFIXES = ("opendns", "benign", "alexa")
CROSS_SOURCE_PREFIXES = ("others",)
BENIGN = "benign"


@dataclass(slots=True)
class Names:
    """Parsed, scorable names with labels (1 = DGA) and group (family, or ``benign``)."""

    domains: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    suffixes: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.domains)

    @property
    def y(self) -> np.ndarray:
        return np.array([g != BENIGN for g in self.groups], dtype=np.int64)

    def take(self, idx: Iterable[int]) -> Names:
        out = Names()
        for i in idx:
            out.domains.append(self.domains[i])
            out.labels.append(self.labels[i])
            out.suffixes.append(self.suffixes[i])
            out.groups.append(self.groups[i])
        return out

    def extend(self, other: Names) -> Names:
        self.domains += other.domains
        self.labels += other.labels
        self.suffixes += other.suffixes
        self.groups += other.groups
        return self


def read_names(path: Path) -> list[str]:
    """Domains from a text file (one per line, ``#`` comments) or a JSON list."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        data = json.loads(text)
        out: list[str] = []
        for item in data if isinstance(data, list) else []:
            value = item.get("rootDomain") or item.get("domain") if isinstance(item, dict) else item
            if isinstance(value, str):
                out.append(value)
        return out
    names: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip().strip('"')
        if line:
            names.append(line.split(",", 1)[0].strip().strip('"'))
    return names


def to_names(domains: Iterable[str], group: str) -> Names:
    """Parse and keep the scorable ones (one entry per registered label and suffix)."""
    out = Names()
    seen: set[str] = set()
    for raw in domains:
        parsed = parse_domain(raw)
        if not parsed.scorable:
            continue
        key = f"{parsed.name}.{parsed.suffix}"
        if key in seen:
            continue
        seen.add(key)
        out.domains.append(key)
        out.labels.append(parsed.name)
        out.suffixes.append(parsed.suffix)
        out.groups.append(group)
    return out


@dataclass(slots=True)
class Dataset:
    families: dict[str, Names]
    benign: Names
    cross_source: Names
    fingerprint: str
    files: list[str]
    #: Names found in a benign list and a DGA list both: dropped from the DGA side.
    conflicts: int = 0


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sample(lines: list[str], limit: int | None, seed: int) -> list[str]:
    if limit is None or len(lines) <= limit:
        return lines
    idx = np.random.default_rng(seed).choice(len(lines), limit, replace=False)
    return [lines[i] for i in sorted(idx.tolist())]


def load_dataset(folder: Path, limit: int | None = None, seed: int = 0) -> Dataset:
    """Read a DGA dataset folder (see module docstring); fingerprints every file used.

    ``limit`` keeps a seeded random sample of at most that many lines per family file
    (benign lists are always read whole), for quick runs.
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder")
    benign_raw: list[str] = []
    families: dict[str, Names] = {}
    cross = Names()
    files: list[str] = []
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.txt")):
        stem = path.stem.lower()
        files.append(path.name)
        digest.update(f"{path.name}:{_sha256(path)}\n".encode())
        if stem.startswith(BENIGN_PREFIXES):
            benign_raw += read_names(path)
        elif stem.startswith(CROSS_SOURCE_PREFIXES):
            cross.extend(to_names(_sample(read_names(path), limit, seed), stem))
        else:
            families[stem] = to_names(_sample(read_names(path), limit, seed), stem)
    if not families or not benign_raw:
        raise FileNotFoundError(f"{folder}: needs FAMILY.txt files and opendns/benign lists")
    benign = to_names(benign_raw, BENIGN)
    benign_keys = set(benign.domains)
    conflicts = 0
    for name, fam in list(families.items()):
        keep = [i for i, d in enumerate(fam.domains) if d not in benign_keys]
        conflicts += len(fam) - len(keep)
        families[name] = fam.take(keep)
    return Dataset(families, benign, cross, digest.hexdigest(), files, conflicts)


# --- generic synthetic DGA names ----------------------------------------------------------

_TLDS = ("com", "net", "org", "info", "biz", "ru", "cn", "xyz", "top", "cc", "in", "io")
_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))
_ALNUM = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"))
_HEX = np.array(list("0123456789abcdef"))


_VOWELS = np.array(list("aeiouy"))
_CONSONANTS = np.array(list("bcdfghjklmnpqrstvwxz"))


def _syllables(rng: np.random.Generator) -> str:
    """A pronounceable pseudo-word: consonant/vowel syllables, 6-16 letters."""
    target = int(rng.integers(6, 17))
    out = ""
    while len(out) < target:
        pattern = ("cv", "cvc", "vc", "cvv")[int(rng.integers(4))]
        out += "".join(str(rng.choice(_VOWELS if ch == "v" else _CONSONANTS)) for ch in pattern)
    return out[:target]


def _words(rng: np.random.Generator, vocabulary: list[str], zipf: np.ndarray) -> str:
    """3-6 words, drawn half the time uniformly, half the time by frequency."""
    k = int(rng.integers(3, 7))
    if rng.random() < 0.5:
        idx = rng.integers(0, len(vocabulary), k)
    else:
        idx = rng.choice(len(vocabulary), k, p=zipf)
    return "".join(vocabulary[int(i)] for i in idx)[:63]


def synthetic(
    kind: str,
    n: int,
    rng: np.random.Generator,
    vocabulary: list[str],
    frequencies: np.ndarray | None = None,
) -> Names:
    """``n`` generic DGA-like names of one kind (see SYNTHETIC_KINDS).

    ``vocabulary`` is a list of common words (most frequent first) and ``frequencies``
    their relative frequencies, for the "words" kind.
    """
    zipf = np.ones(len(vocabulary)) if frequencies is None else np.asarray(frequencies, float)
    zipf = zipf / zipf.sum() if len(zipf) else zipf
    out: list[str] = []
    for _ in range(n):
        tld = _TLDS[int(rng.integers(len(_TLDS)))]
        if kind == "letters":
            label = "".join(rng.choice(_LETTERS, int(rng.integers(5, 26))))
        elif kind == "alnum":
            label = "".join(rng.choice(_ALNUM, int(rng.integers(8, 33))))
        elif kind == "hex":
            label = "".join(rng.choice(_HEX, int(rng.choice([8, 10, 12, 16, 20, 32]))))
        elif kind == "syllables":
            label = _syllables(rng)
        elif kind == "words":
            label = _words(rng, vocabulary, zipf)
        else:
            raise ValueError(f"unknown synthetic kind {kind!r}")
        out.append(f"{label}.{tld}")
    return to_names(out, f"synthetic-{kind}")


#: letters: random letters, 5-25; alnum: letters and digits, 8-32; hex: digests; syllables:
#: pronounceable pseudo-words; words: concatenated dictionary words.
SYNTHETIC_KINDS = ("letters", "alnum", "hex", "syllables", "words")
