"""Labelled URL sets from a folder: label = file name, parsed once, duplicates dropped.

Reads ``*.json`` (a JSON array of strings) and ``*.txt`` / ``*.csv`` (one URL per line)
files; a name containing ``phish`` or ``malicious`` is label 1, ``legit`` or ``benign``
label 0, any other file is ignored. Exact duplicates (after normalization: the corpus
lists the same phishing page under http and https, with and without ``www.``) are dropped
so no URL lands in both train and test; a URL listed under both labels is dropped too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from garrison.core.errors import InputError
from garrison.detect.ml.url.parse import ParsedUrl, parse_url


@dataclass(slots=True)
class UrlSet:
    urls: list[ParsedUrl] = field(default_factory=list)
    labels: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    fingerprint: str = ""
    files: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.urls)

    def take(self, idx: NDArray[np.int64] | list[int]) -> UrlSet:
        index = np.asarray(idx, dtype=np.int64)
        return UrlSet(
            [self.urls[i] for i in index.tolist()],
            self.labels[index],
            self.fingerprint,
            self.files,
            {},
        )

    @property
    def sites(self) -> list[str]:
        return [u.site for u in self.urls]


def label_of(path: Path) -> int | None:
    name = path.name.lower()
    if "phish" in name or "malicious" in name:
        return 1
    if "legit" in name or "benign" in name:
        return 0
    return None


def read_urls(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        data = json.loads(text)
        if not isinstance(data, list):
            raise InputError(f"{path}: expected a JSON array of URLs")
        return [str(x) for x in data]
    return [ln for ln in text.splitlines() if ln.strip()]


def load_urls(folder: Path) -> UrlSet:
    """Every labelled file of ``folder``, parsed, invalid and duplicate URLs dropped."""
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and label_of(p) is not None)
    if not files:
        raise InputError(f"{folder}: no phishing/legitimate URL files (label = file name)")
    digest = hashlib.sha256()
    hashes: dict[str, str] = {}
    label_by_key: dict[str, int] = {}
    first: dict[str, ParsedUrl] = {}
    conflicts: set[str] = set()
    counts = {"read": 0, "invalid": 0, "duplicates": 0, "label_conflicts": 0}
    for path in files:
        blob = path.read_bytes()
        hashes[path.name] = hashlib.sha256(blob).hexdigest()
        digest.update(path.name.encode() + b"\0" + blob)
        label = label_of(path)
        assert label is not None  # noqa: S101 - narrows the type: files were chosen by their label
        for raw in read_urls(path):
            counts["read"] += 1
            p = parse_url(raw)
            if not p.ok:
                counts["invalid"] += 1
                continue
            key = p.key
            if key in label_by_key:
                if label_by_key[key] != label:
                    conflicts.add(key)
                counts["duplicates"] += 1
                continue
            label_by_key[key] = label
            first[key] = p
    counts["label_conflicts"] = len(conflicts)
    keys = [k for k in first if k not in conflicts]
    out = UrlSet(
        [first[k] for k in keys],
        np.array([label_by_key[k] for k in keys], dtype=np.int64),
        digest.hexdigest(),
        hashes,
        counts,
    )
    out.counts["kept"] = len(out)
    out.counts["phishing"] = int(out.labels.sum())
    out.counts["legitimate"] = len(out) - out.counts["phishing"]
    return out


def group_split(
    sites: list[str], share: float, rng: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Row indices (rest, held out): about ``share`` of the rows, whole sites at a time,
    so no registered domain is on both sides."""
    unique = sorted(set(sites))
    order = rng.permutation(len(unique))
    held: set[str] = set()
    target = share * len(sites)
    per_site: dict[str, int] = {}
    for s in sites:
        per_site[s] = per_site.get(s, 0) + 1
    count = 0
    for i in order.tolist():
        if count >= target:
            break
        held.add(unique[i])
        count += per_site[unique[i]]
    mask = np.array([s in held for s in sites], dtype=bool)
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def random_split(
    n: int, share: float, rng: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    order = rng.permutation(n)
    k = round(share * n)
    return np.sort(order[k:]), np.sort(order[:k])
