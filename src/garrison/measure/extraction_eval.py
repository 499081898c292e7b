"""Extraction evaluation: ART's KnockoffNets and CopycatCNN against the served DGA model
through the serving guard, and benign clients replaying real names at realistic rates.

What ``bench/bench_extraction.py`` prints and ``tests/unit/measure/test_extraction_eval.py``
runs small. ART (the ``redteam`` extra) is imported only here, on use.

The attacks work on feature vectors, the model's own input after its feature step (the
feature code is open source, so a thief can compute it for any name it chooses). Their
queries go through ``VectorEndpoint``: admitted, logged, tested and coarsened by the guard
like any client's. The copy's *agreement* is the share of held-out real names (benign
lists and DGA families) on which it gives our model's verdict.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from garrison.core.errors import TooManyRequests
from garrison.core.findings import Finding
from garrison.govern.serving import Client, GuardConfig, QueryLog, ServingGuard
from garrison.govern.serving.querylog import Query
from garrison.measure.serving import VectorEndpoint, dga_space
from garrison.store.state import StateDB

F32 = NDArray[np.float32]
THIEVES = ("uniform-vectors", "random-names", "natural-names")
ATTACKS = ("knockoff", "copycat")


# -- data ------------------------------------------------------------------------------
def read_names(path: Path) -> list[str]:
    """Names of a list file (one a line, ``#`` comments), a Zeek dns.log (its ``query``
    column) or the top-sites JSON (``rootDomain``)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        return [str(row["rootDomain"]) for row in json.loads(text) if "rootDomain" in row]
    lines = text.splitlines()
    fields = next((ln.split("\t")[1:] for ln in lines if ln.startswith("#fields")), None)
    if fields is not None and "query" in fields:
        col = fields.index("query")
        rows = (ln.split("\t") for ln in lines if ln and not ln.startswith("#"))
        return [r[col] for r in rows if len(r) > col and r[col] not in ("-", "(empty)")]
    return [ln.strip().split(",")[0] for ln in lines if ln.strip() and not ln.startswith("#")]


@dataclass(slots=True)
class Pools:
    """Feature vectors of real names: what benign clients replay (``benign`` in corpus
    order, zeek streams kept whole), DGA names analysts also score, a natural thief's
    data, and the held-out set agreement is measured on."""

    benign: F32
    dga: F32
    natural: F32
    test_x: F32
    test_y: NDArray[np.int64]


def features(model: Any, names: Sequence[str]) -> F32:
    from garrison.detect.ml.domains import parse_domain

    parsed = [parse_domain(n) for n in names]
    kept = [p for p in parsed if p.ok and p.scorable]
    x: F32 = model.features([p.name for p in kept], [p.suffix for p in kept])
    return x


def victim_labels(model: Any, x: F32) -> NDArray[np.int64]:
    return (model.probability(model.logit(x)) >= model.threshold).astype(np.int64)


def load_pools(
    corpus: Path, model: Any, seed: int = 0, test_n: int = 3000, dga_n: int = 20_000
) -> Pools:
    rng = np.random.default_rng(seed)
    benign_files = [
        corpus / "benign-domains" / "opendns-random-domains.txt",
        corpus / "benign-domains" / "opendns-top-domains.txt",
        *sorted((corpus / "zeek-stratosphere").glob("*/dns.log")),
    ]
    benign = [n for f in benign_files for n in read_names(f)]
    dga = [n for f in sorted((corpus / "dga").glob("*.txt")) for n in read_names(f)]
    dga = [n for n in dga if not n.startswith("opendns")]
    dga = [dga[i] for i in rng.permutation(len(dga))]
    natural_benign = read_names(corpus / "benign-domains" / "top-sites-500.json")
    natural_benign += read_names(corpus / "benign-domains" / "alexa_1000.txt")
    test_benign = [benign[i] for i in rng.choice(len(benign), test_n, replace=False)]
    held = set(test_benign)
    test_x = np.concatenate([features(model, test_benign), features(model, dga[:test_n])]).astype(
        np.float32
    )
    return Pools(
        benign=features(model, [n for n in benign if n not in held]),
        dga=features(model, dga[test_n : test_n + dga_n]),
        natural=np.concatenate(
            [features(model, natural_benign), features(model, dga[-len(natural_benign) :])]
        ),
        test_x=test_x,
        test_y=victim_labels(model, test_x),
    )


def thief_data(kind: str, model: Any, pools: Pools, n: int, seed: int) -> F32:
    """What a thief queries: random vectors over the range real names span, the features
    of random strings, or real names of its own (public lists, DGA feeds)."""
    rng = np.random.default_rng(seed)
    if kind == "uniform-vectors":
        real = np.nan_to_num(pools.benign, nan=0.0)
        lo, hi = real.min(axis=0), real.max(axis=0)
        return rng.uniform(lo, hi, (n, real.shape[1])).astype(np.float32)
    if kind == "random-names":
        alphabet = list(string.ascii_lowercase + string.digits)
        tlds = [".com", ".net", ".org", ".info", ".ru", ".de"]
        names = [
            "".join(rng.choice(alphabet, int(rng.integers(4, 20)))) + str(rng.choice(tlds))
            for _ in range(n)
        ]
        return features(model, names)
    if kind == "natural-names":
        return pools.natural[rng.permutation(len(pools.natural))[:n]]
    raise ValueError(f"unknown thief data {kind!r} (known: {', '.join(THIEVES)})")


# -- attacks ---------------------------------------------------------------------------
def _thief() -> Any:
    """An ART scikit-learn classifier whose ``fit`` takes (and drops) the ``batch_size`` /
    ``nb_epochs`` ART's extraction attacks pass, around a gradient-boosted model."""
    from art.estimators.classification.scikitlearn import ScikitlearnClassifier
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    class Thief(ScikitlearnClassifier):
        def fit(self, x: Any, y: Any, **kwargs: Any) -> None:
            del kwargs
            with threadpool_limits(1):  # OpenMP on shared cores spins far more than it helps
                super().fit(np.nan_to_num(x, nan=-1.0), y)

        def predict(self, x: Any, **kwargs: Any) -> Any:
            return super().predict(np.nan_to_num(x, nan=-1.0), **kwargs)

    return Thief(HistGradientBoostingClassifier(max_iter=100, random_state=0))


def agreement(copy: Any, pools: Pools) -> float:
    """Share of the held-out names on which ``copy`` gives our model's verdict (an int:
    the one label the thief ever saw, which is all its copy can answer)."""
    if isinstance(copy, int):
        return float(np.mean(pools.test_y == copy))
    predicted = np.asarray(copy.predict(pools.test_x)).argmax(axis=1)
    return float(np.mean(predicted == pools.test_y))


def fit_copy(x: F32, answers: NDArray[np.float64]) -> Any:
    """The copy a thief trains on ``x`` and the answers it got (the label itself when it
    only ever saw one)."""
    labels = answers.argmax(axis=1)
    if len(np.unique(labels)) < 2:
        return int(labels[0])
    copy = _thief()
    copy.fit(x, np.eye(2)[labels])
    return copy


@dataclass(slots=True)
class Recorder:
    """The endpoint as the attack sees it, keeping what it asked and got, in order."""

    endpoint: Callable[[F32], NDArray[np.float64]]
    asked: list[F32] = field(default_factory=list)
    answers: list[NDArray[np.float64]] = field(default_factory=list)

    def __call__(self, x: F32) -> NDArray[np.float64]:
        got = self.endpoint(x)
        self.asked.append(np.asarray(x, np.float32))
        self.answers.append(got)
        return got


@dataclass(frozen=True, slots=True)
class AttackResult:
    attack: str
    thief: str
    queries: int
    flagged_at: int | None
    reasons: tuple[str, ...]
    agreement_at_flag: float | None
    agreement_at_end: float


def guard_in_memory(config: GuardConfig, sink: Callable[[Finding], None]) -> ServingGuard:
    return ServingGuard(config, QueryLog(StateDB.memory()), sink, clock=lambda: 0)


def run_attack(
    attack: str,
    thief: str,
    model: Any,
    pools: Pools,
    config: GuardConfig,
    queries: int = 2000,
    batch: int = 10,
    seed: int = 0,
) -> AttackResult:
    """Run one ART attack with ``queries`` queries through a fresh guard (``on_flag`` as
    configured: ``log`` lets the attack finish, so the copy at 2,000 queries is the
    undefended one) and train the copy again on what it had when the guard flagged it."""
    from art.attacks.extraction import CopycatCNN, KnockoffNets
    from art.estimators.classification import BlackBoxClassifier

    found: list[Finding] = []
    guard = guard_in_memory(config, found.append)
    guard.register("dga", dga_space(model))
    client = Client(f"thief-{attack}-{thief}")
    endpoint = VectorEndpoint(
        guard, client, "dga", lambda x: model.probability(model.logit(x)), model.threshold
    )
    recorder = Recorder(endpoint)
    x = thief_data(thief, model, pools, queries, seed)
    victim = BlackBoxClassifier(recorder, input_shape=(x.shape[1],), nb_classes=2)
    cls = KnockoffNets if attack == "knockoff" else CopycatCNN
    kwargs: dict[str, Any] = {"batch_size_query": batch, "nb_stolen": queries}
    if attack == "knockoff":
        kwargs["sampling_strategy"] = "random"
    np.random.seed(seed)  # ART samples with numpy's global generator
    copy = cls(victim, **kwargs).extract(x, thieved_classifier=_thief())
    asked, answers = np.concatenate(recorder.asked), np.concatenate(recorder.answers)
    flagged_at: int | None = None
    reasons: tuple[str, ...] = ()
    at_flag: float | None = None
    if found:
        flagged_at = int(found[0].explanation["queries"])
        reasons = tuple(found[0].explanation["reasons"])
        at_flag = agreement(fit_copy(asked[:flagged_at], answers[:flagged_at]), pools)
    return AttackResult(
        attack, thief, len(asked), flagged_at, reasons, at_flag, agreement(copy, pools)
    )


# -- benign clients --------------------------------------------------------------------
PROFILES = ("steady", "analyst", "bursty", "batch")


@dataclass(frozen=True, slots=True)
class BenignResult:
    """Clients simulated and flagged, lines scored, requests the limits refused, and per
    profile (clients, flagged)."""

    clients: int
    flagged: int
    queries: int
    refused_requests: int
    by_profile: dict[str, tuple[int, int]]
    flagged_reasons: tuple[str, ...]


def _client_requests(profile: str, rng: np.random.Generator, start: int) -> list[tuple[int, int]]:
    """(time ms, lines) of one benign client's day: ``steady`` a line every few seconds
    for a while (a feed), ``analyst`` 1-20 lines now and then, ``bursty`` a few large
    requests (20-400 lines) in quick succession, ``batch`` one day's log (200-1,000 lines)
    at once."""
    t, out = start, []
    if profile == "steady":
        for _ in range(int(rng.integers(100, 600))):
            t += int(rng.exponential(5_000))
            out.append((t, 1))
    elif profile == "analyst":
        for _ in range(int(rng.integers(5, 40))):
            t += int(rng.exponential(300_000))
            out.append((t, int(rng.integers(1, 21))))
    elif profile == "bursty":
        for _ in range(int(rng.integers(1, 4))):
            t += int(rng.exponential(3_600_000))
            for _ in range(int(rng.integers(1, 4))):
                t += int(rng.integers(200, 3_000))
                out.append((t, int(rng.integers(20, 401))))
    else:
        out.append((t + int(rng.integers(0, 3_600_000)), int(rng.integers(200, 1_001))))
    return out


def _lines(
    pools: Pools, rng: np.random.Generator, n: int, cursor: int, dga_share: float
) -> NDArray[np.int64]:
    """Rows (of ``benign`` then ``dga``) of ``n`` names a client scores: a run of
    consecutive benign names (a log replayed in order, repeats and all), with
    ``dga_share`` of DGA names mixed in."""
    k = int(rng.binomial(n, dga_share))
    benign = (cursor + np.arange(n - k)) % len(pools.benign)
    dga = len(pools.benign) + rng.integers(0, len(pools.dga), k)
    rows = np.concatenate([benign, dga])
    return rows[rng.permutation(len(rows))]


def benign_replay(
    model: Any, pools: Pools, config: GuardConfig, clients: int = 1000, seed: int = 0
) -> BenignResult:
    """``clients`` simulated benign clients over one day, interleaved in time through one
    guard; each replays consecutive real names (some with repeats) plus a share of DGA
    names, in one of the ``PROFILES``. Counts flagged clients and refused requests."""
    rng = np.random.default_rng(seed)
    found: list[Finding] = []
    now = [0]
    guard = ServingGuard(config, QueryLog(StateDB.memory()), found.append, clock=lambda: now[0])
    guard.register("dga", dga_space(model))
    events: list[tuple[int, int, int]] = []
    profiles: list[str] = []
    for c in range(clients):
        profile = PROFILES[int(rng.choice(4, p=[0.3, 0.4, 0.2, 0.1]))]
        profiles.append(profile)
        for t, n in _client_requests(profile, rng, int(rng.integers(0, 43_200_000))):
            events.append((t, c, n))
    events.sort()
    cursors = rng.integers(0, len(pools.benign), clients)
    shares = rng.uniform(0.0, 0.3, clients)
    every = np.concatenate([pools.benign, pools.dga])
    scores = model.probability(model.logit(every))  # once: the model is not what is measured
    verdicts = np.where(scores >= model.threshold, "malicious", "benign")
    refused = total = 0
    for t, c, n in events:
        now[0] = t
        client = Client(f"benign-{c}")
        rows = _lines(pools, rng, n, int(cursors[c]), float(shares[c]))
        cursors[c] += n
        try:
            guard.admit(client, "dga", len(rows))
        except TooManyRequests:
            refused += 1
            continue
        queries = [
            Query(str(i), str(verdicts[i]), float(scores[i]), every[i]) for i in rows.tolist()
        ]
        guard.record(client, "dga", queries)
        total += len(rows)
    flagged_names = {f.entities[0].value for f in found}
    by_profile: dict[str, tuple[int, int]] = {}
    for c, profile in enumerate(profiles):
        n_clients, n_flagged = by_profile.get(profile, (0, 0))
        by_profile[profile] = (n_clients + 1, n_flagged + (f"benign-{c}" in flagged_names))
    reasons = tuple(r for f in found for r in f.explanation["reasons"])
    return BenignResult(clients, len(flagged_names), total, refused, by_profile, reasons)
