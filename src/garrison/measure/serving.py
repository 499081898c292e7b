"""The serving guard put around model scoring: one guard per home and process, the
feature space each text model's queries are tested in, findings raised into the home's
own pipeline (triage and correlation, as a hunt's would be).

``ModelService.score`` (the API's ``POST /api/models/{name}/score``) and ``garrison score``
call ``guarded_score``; ``VectorEndpoint`` is the same guard in front of the DGA model's
feature vectors, which is where ART's extraction attacks query (bench/bench_extraction.py).
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from garrison.core.config import GarrisonConfig, load_config
from garrison.core.findings import Finding
from garrison.govern.access import Principal, os_account
from garrison.govern.serving import (
    Client,
    FeatureSpace,
    Query,
    QueryLog,
    ServingGuard,
    load_guard_config,
)

F32 = NDArray[np.float32]
#: Dimensions of the hashed character-trigram space the url and email models are tested in.
HASHED_DIMS = 64
_GUARDS: dict[str, ServingGuard] = {}
_LOCK = threading.Lock()


class PipelineSink:
    """Raise a guard finding into the home: triaged, correlated and stored in ``state.db``
    like a hunt's findings (``garrison findings``, ``GET /api/findings``, playbooks)."""

    def __init__(self, config: GarrisonConfig) -> None:
        self.config = config

    def __call__(self, finding: Finding) -> None:
        from garrison.correlate.service import AlertPipeline
        from garrison.store.state import StateDB

        state = StateDB(self.config.home / "state.db")
        try:
            AlertPipeline.build(self.config, state).process([finding])
        finally:
            state.close()


def guard_for(home: Path, config: GarrisonConfig | None = None) -> ServingGuard:
    """The guard of ``home`` in this process (built once: its buckets and stream monitors
    must outlive one request); ``config`` defaults to ``HOME/garrison.toml``."""
    key = str(home.expanduser().resolve())
    with _LOCK:
        guard = _GUARDS.get(key)
        if guard is None:
            cfg = config if config is not None else load_config(home)
            table = load_guard_config(cfg.raw, cfg.path)
            guard = ServingGuard(table, QueryLog.open(home, table.log_inputs), PipelineSink(cfg))
            _GUARDS[key] = guard
        return guard


def forget_guards() -> None:
    """Drop every cached guard (tests; a server that reloads its configuration)."""
    with _LOCK:
        for guard in _GUARDS.values():
            guard.log.close()
        _GUARDS.clear()


# -- feature spaces --------------------------------------------------------------------
def dga_space(model: Any) -> FeatureSpace:
    q = np.asarray(model.benign_quantiles, np.float32)
    return FeatureSpace.from_quantiles(q[0], q[1], q[2])


def dga_vectors(model: Any, results: Sequence[dict[str, Any]]) -> list[F32 | None]:
    """The DGA model's own feature vector of every scored line (None: not scored)."""
    from garrison.detect.ml.domains import parse_domain

    slots: list[int] = []
    names: list[str] = []
    suffixes: list[str] = []
    for i, r in enumerate(results):
        if r.get("score") is None:
            continue
        parsed = parse_domain(r.get("input"))
        if parsed.ok and parsed.scorable:
            slots.append(i)
            names.append(parsed.name)
            suffixes.append(parsed.suffix)
    out: list[F32 | None] = [None] * len(results)
    if slots:
        x = model.features(names, suffixes)
        for j, i in enumerate(slots):
            out[i] = x[j]
    return out


def hashed_vector(text: str, dims: int = HASHED_DIMS) -> F32:
    """Character trigrams hashed into ``dims`` counts, L2-normalised: a stand-in feature
    space for models whose own (hashed n-grams, ~2^18 wide) is too wide to measure in."""
    v = np.zeros(dims, np.float32)
    padded = f"\x02{text[:4096]}\x03"
    for i in range(len(padded) - 2):
        v[zlib.crc32(padded[i : i + 3].encode("utf-8", "replace")) % dims] += 1.0
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


def vectors_for(
    name: str, model: Any, lines: Sequence[str], results: Sequence[dict[str, Any]]
) -> tuple[FeatureSpace, list[F32 | None]]:
    if name == "dga":
        return dga_space(model), dga_vectors(model, results)
    vectors: list[F32 | None] = [
        None if r.get("score") is None else hashed_vector(str(line))
        for line, r in zip(lines, results, strict=True)
    ]
    return FeatureSpace.identity(HASHED_DIMS), vectors


# -- scoring through the guard ---------------------------------------------------------
def scoring_client(principal: Principal | None, actor: str | None = None) -> Client:
    """The guard's client: the API principal (its roles decide its limits), else the OS
    account running the command line (``local``)."""
    if principal is not None:
        return Client(principal.name, frozenset(principal.roles), local=principal.via == "cli")
    return Client(actor or os_account(), local=True)


def guarded_score(
    guard: ServingGuard,
    client: Client,
    name: str,
    lines: Sequence[str | bytes],
    score: Callable[[list[Any]], list[dict[str, Any]]],
    model: Any,
) -> list[dict[str, Any]]:
    """Admit (quota, rate), score, log and test, coarsen: what ``client`` may see."""
    limits = guard.admit(client, name, len(lines))
    results = score(list(lines))
    texts = [_text(line) for line in lines]
    space, vectors = vectors_for(name, model, texts, results)
    if name not in guard.spaces:
        guard.register(name, space)
    queries = [
        Query(text, str(r.get("verdict")), _score(r), v)
        for text, r, v in zip(texts, results, vectors, strict=True)
    ]
    guard.record(client, name, queries)
    return guard.coarsen(results, limits)


def _text(line: str | bytes) -> str:
    if isinstance(line, bytes):
        return line.decode("utf-8", "surrogateescape").rstrip("\r\n")
    return line


def _score(result: dict[str, Any]) -> float | None:
    value = result.get("score")
    return None if value is None else float(value)


class VectorEndpoint:
    """A served model's probabilities for feature vectors, as ``client`` gets them through
    the guard (admitted, logged, tested, coarsened): the victim ART's attacks query."""

    def __init__(
        self,
        guard: ServingGuard,
        client: Client,
        name: str,
        probability: Callable[[F32], F32],
        threshold: float,
    ) -> None:
        self.guard, self.client, self.name = guard, client, name
        self.probability, self.threshold = probability, threshold

    def __call__(self, x: F32) -> NDArray[np.float64]:
        x = np.asarray(x, np.float32).reshape(len(x), -1)
        limits = self.guard.admit(self.client, self.name, len(x))
        p = np.asarray(self.probability(x), np.float64).reshape(-1)
        labels = ["malicious" if v >= self.threshold else "benign" for v in p]
        queries = [
            Query(row.tobytes().hex(), label, float(v), row)
            for row, label, v in zip(x, labels, p, strict=True)
        ]
        self.guard.record(self.client, self.name, queries)
        if limits.coarsen == "label":
            p = (p >= self.threshold).astype(np.float64)
        elif limits.coarsen == "round":
            p = np.round(p, limits.decimals)
        return np.stack([1.0 - p, p], axis=1)
