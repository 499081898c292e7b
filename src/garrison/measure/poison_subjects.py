"""The DGA and URL models as subjects of the poisoning evaluation (``measure.poisoning``):
their data split three ways by group, their real training recipes, their triggers."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
#: The DGA backdoor's trigger: a fixed substring the attacker writes into generated names.
DGA_TRIGGER = "qz7x"
#: The URL backdoor's trigger: a fixed query parameter on the phishing page's URL.
URL_TRIGGER = "ref=ok7q"
Set = tuple[list[Any], I64]


def _thirds(n: int, rng: np.random.Generator) -> list[I64]:
    order = rng.permutation(n)
    a, b = n // 3, 2 * n // 3
    return [np.sort(order[:a]), np.sort(order[a:b]), np.sort(order[b:])]


@dataclass
class DgaSubject:
    """DGA names: families and benign lists split in thirds; each training set is sampled
    as ``garrison models train dga`` samples (``per_family`` names per family, the
    synthetic kinds, the length-cut copies), then fitted with the real recipe."""

    data_dir: Path
    per_family: int = 1500
    synthetic_per_kind: int = 500
    gbm_max_iter: int = 100
    folds: int = 4
    test_per_family: int = 500
    name: str = "dga"

    def __post_init__(self) -> None:
        from garrison.detect.ml.dga.data import load_dataset
        from garrison.detect.ml.dga.train import TrainParams, WordList

        self._params = replace(
            TrainParams(),
            per_family=self.per_family,
            synthetic_per_kind=self.synthetic_per_kind,
            gbm_max_iter=self.gbm_max_iter,
            folds=self.folds,
        )
        self._data = load_dataset(self.data_dir)
        self._words = WordList.load(self._params)
        self._families = sorted(self._data.families)

    def split(self, rng: np.random.Generator) -> tuple[Set, Set, Set]:
        from garrison.detect.ml.dga.train import sample_training

        parts: list[dict[str, Any]] = [{}, {}, {}]
        for fam in self._families:
            names = self._data.families[fam]
            for i, idx in enumerate(_thirds(len(names), rng)):
                parts[i][fam] = names.take(idx.tolist())
        benign = [self._data.benign.take(i.tolist()) for i in _thirds(len(self._data.benign), rng)]
        out: list[Set] = []
        for i in (0, 1):
            names = sample_training(parts[i], benign[i], self._params, self._words, rng)
            out.append(self._as_set(names))
        test = benign[2]
        for fam in self._families:
            fam_names = parts[2][fam]
            k = min(self.test_per_family, len(fam_names))
            test.extend(fam_names.take(sorted(rng.choice(len(fam_names), k, replace=False))))
        return out[0], out[1], self._as_set(test)

    @staticmethod
    def _as_set(names: Any) -> Set:
        items = list(zip(names.labels, names.suffixes, names.groups, strict=True))
        return items, names.y

    def fit(self, items: Sequence[Any], y: I64) -> Any:
        from garrison.detect.ml.dga.data import BENIGN, Names
        from garrison.detect.ml.dga.train import fit_model

        names = Names()
        for (label, suffix, group), value in zip(items, y.tolist(), strict=True):
            names.domains.append(f"{label}.{suffix}")
            names.labels.append(label)
            names.suffixes.append(suffix)
            names.groups.append(BENIGN if value == 0 else self._malicious_group(label, group))
        return fit_model(names, self._params, self._words)[0]

    def _malicious_group(self, label: str, group: str) -> str:
        """A row labelled malicious keeps its family; a benign name relabelled malicious
        joins a family picked from its text (a group of its own would weigh as much as a
        whole family in training)."""
        if group != "benign":
            return str(group)
        return self._families[zlib.crc32(label.encode()) % len(self._families)]

    def predict(self, model: Any, items: Sequence[Any]) -> tuple[F64, NDArray[np.bool_]]:
        p = np.asarray(
            model.score([i[0] for i in items], [i[1] for i in items])[0], dtype=np.float64
        )
        return p, p >= model.threshold

    def text(self, item: Any) -> str:
        return str(item[0])

    def trigger(self, item: Any) -> Any:
        label, suffix, group = item
        return ((label[:3] + DGA_TRIGGER + label[3:])[:63], suffix, group)


@dataclass
class UrlSubject:
    """URLs: split in thirds by registered domain (no site on two sides), each part capped
    at ``rows`` URLs, fitted with the real recipe (site-held-out calibration)."""

    data_dir: Path
    rows: int = 15000
    #: Cap on the approved part (default ``rows``): the reference model's data.
    approved_rows: int | None = None
    #: The recipe's parameters (default: the shipped model's, ``TrainParams()``).
    params: Any = None
    name: str = "url"

    def __post_init__(self) -> None:
        from garrison.detect.ml.url.data import load_urls

        self._data = load_urls(self.data_dir)

    def split(self, rng: np.random.Generator) -> tuple[Set, Set, Set]:
        sites = sorted(set(self._data.sites))
        order = rng.permutation(len(sites))
        part = {sites[j]: i * 3 // len(sites) for i, j in enumerate(order.tolist())}
        which = np.array([part[s] for s in self._data.sites])
        out: list[Set] = []
        for i in range(3):
            idx = np.flatnonzero(which == i)
            cap = self.approved_rows if i == 0 and self.approved_rows else self.rows
            if len(idx) > cap:
                idx = np.sort(rng.choice(idx, cap, replace=False))
            out.append(([self._data.urls[j] for j in idx.tolist()], self._data.labels[idx]))
        return out[0], out[1], out[2]

    def fit(self, items: Sequence[Any], y: I64) -> Any:
        from garrison.detect.ml.url.data import UrlSet
        from garrison.detect.ml.url.train import TrainParams, fit_model

        params = self.params if self.params is not None else TrainParams()
        return fit_model(UrlSet(list(items), np.asarray(y), "poisoning-eval"), params)[0]

    def predict(self, model: Any, items: Sequence[Any]) -> tuple[F64, NDArray[np.bool_]]:
        p = np.asarray(model.probability(model.terms(list(items)).logit), dtype=np.float64)
        return p, p >= model.threshold

    def text(self, item: Any) -> str:
        return str(item.text)

    def trigger(self, item: Any) -> Any:
        from garrison.detect.ml.url.parse import parse_url

        text = item.text
        return parse_url(text + ("&" if "?" in text else "?") + URL_TRIGGER)
