"""Detector ``ml.dns_tunnel``: DNS tunnelling and exfiltration per (host, registered domain).

Tunnels (iodine, dnscat2, DNSExfiltrator, Cobalt Strike's DNS beacon) carry data in the
query name, under one registered domain the attacker controls: many *unique*, *long*,
*high-entropy* subdomains, a steady volume of query bytes, and often TXT/NULL/CNAME/MX
record types whose answers carry the return channel. The detector aggregates each
(querier, registered domain) pair over the run (registered domain from ``tldextract``'s
bundled suffix list, offline) and scores it with a transparent formula:

- *encoded*: how long the subdomains are on average, the longest label, and the mean
  character entropy of the subdomain text;
- *volume*: unique subdomains and total subdomain bytes (log-scaled);
- *record types*: the share of TXT/NULL/ANY (full weight) and CNAME/MX (half weight).

``score = encoded * (0.4 + 0.6 * volume) + 0.15 * types``, reported when it reaches the
threshold and the pair has enough queries and unique subdomains. The explanation gives each
observed value beside the median of all pairs seen in the run (the population baseline)
and a robust z-score, so an analyst sees how far out the pair is. Legitimate services
that use DNS as a data channel (anti-virus reputation look-ups, some telemetry and CDNs)
look the same and will fire: the allowlist option is for them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from garrison.core.attack import attack_of
from garrison.core.entities import Entity, normalize_entity
from garrison.core.events import Event
from garrison.core.findings import SEVERITY_HIGH, SEVERITY_MEDIUM, Evidence, Finding
from garrison.core.options import names_option, option
from garrison.detect.base import DETECTORS, Detector, DetectorContext
from garrison.detect.ml.domains import DnsView, dns_view, parse_domain
from garrison.detect.options import DETECTOR_OPTIONS, options_of

VERSION = "dns_tunnel-heuristic/1"
_FULL_TYPES = frozenset({"TXT", "NULL", "ANY", "PRIVATE", "KEY"})
_HALF_TYPES = frozenset({"CNAME", "MX", "SRV"})
#: Features compared with the population baseline in explanations.
BASELINE_FEATURES = (
    "queries",
    "unique_subdomains",
    "mean_subdomain_length",
    "max_label_length",
    "mean_entropy",
    "subdomain_bytes",
    "unusual_type_share",
)


@DETECTOR_OPTIONS.register("ml.dns_tunnel")
@dataclass(slots=True, frozen=True)
class TunnelOptions:
    """Options (``[detectors."ml.dns_tunnel"]`` in garrison.toml)."""

    threshold: float = option(0.55, min=0, max=1)
    min_queries: int = option(10, min=0)
    min_unique: int = option(10, min=0)
    max_unique_tracked: int = option(20_000, min=0)
    max_findings: int = option(200, min=0)
    #: Registered domains never reported: an array, or a file with one per line.
    allowlist: tuple[str, ...] = names_option()


def entropy(text: str) -> float:
    """Shannon entropy of ``text`` in bits per character.

    >>> entropy("aaaa"), round(entropy("abcd"), 3)
    (0.0, 2.0)
    """
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


@dataclass(slots=True)
class _Pair:
    querier: Entity | None
    domain: str
    queries: int = 0
    subdomains: set[str] = field(default_factory=set)
    capped: bool = False
    sub_bytes: int = 0
    max_label: int = 0
    entropy_sum: float = 0.0
    with_sub: int = 0
    types: Counter[str] = field(default_factory=Counter)
    answer_bytes: int = 0
    first: int = 0
    last: int = 0
    early: list[Evidence] = field(default_factory=list)
    longest: list[tuple[int, Evidence]] = field(default_factory=list)

    def features(self) -> dict[str, float]:
        unusual = sum(self.types[t] for t in _FULL_TYPES) + 0.5 * sum(
            self.types[t] for t in _HALF_TYPES
        )
        return {
            "queries": float(self.queries),
            "unique_subdomains": float(len(self.subdomains)),
            "mean_subdomain_length": self.sub_bytes / max(self.queries, 1),
            "max_label_length": float(self.max_label),
            "mean_entropy": self.entropy_sum / max(self.with_sub, 1),
            "subdomain_bytes": float(self.sub_bytes),
            "unusual_type_share": unusual / max(self.queries, 1),
        }


def _clip(value: float) -> float:
    return max(0.0, min(1.0, value))


def tunnel_score(f: dict[str, float]) -> tuple[float, dict[str, float]]:
    """The score in [0, 1] and its parts (see the module docstring)."""
    parts = {
        "length": _clip((f["mean_subdomain_length"] - 15.0) / 35.0),
        "label": _clip((f["max_label_length"] - 20.0) / 35.0),
        "entropy": _clip((f["mean_entropy"] - 3.0) / 1.2),
        "unique": _clip(math.log10(max(f["unique_subdomains"], 1.0)) / 3.0),
        "bytes": _clip(math.log10(max(f["subdomain_bytes"], 1.0)) / 5.0),
        "types": _clip(f["unusual_type_share"]),
    }
    encoded = 0.4 * parts["length"] + 0.2 * parts["label"] + 0.4 * parts["entropy"]
    volume = 0.6 * parts["unique"] + 0.4 * parts["bytes"]
    score = _clip(encoded * (0.4 + 0.6 * volume) + 0.15 * parts["types"])
    parts["encoded"] = encoded
    parts["volume"] = volume
    return score, {k: round(v, 3) for k, v in parts.items()}


def _median(values: list[float]) -> float:
    s = sorted(values)
    n = len(s)
    if n == 0:
        return 0.0
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


class DnsTunnelDetector(Detector):
    id = "ml.dns_tunnel"
    name = "DNS tunnelling / exfiltration"

    def __init__(self, options: TunnelOptions | None = None) -> None:
        self.options = options or TunnelOptions()
        self.allow = frozenset(self.options.allowlist)
        self.pairs: dict[tuple[str, str], _Pair] = {}
        self.counts = {"queries_seen": 0, "skipped": 0}

    def observe(self, events: Sequence[Event]) -> list[Finding]:
        for event in events:
            view = dns_view(event.ocsf, event.fields)
            if view is None:
                continue
            self.counts["queries_seen"] += 1
            self._add(event, view)
        return []

    def _add(self, event: Event, view: DnsView) -> None:
        parsed = parse_domain(view.query)
        if (
            not parsed.ok
            or not parsed.suffix
            or parsed.suffix.endswith("arpa")
            or (parsed.registered in self.allow)
        ):
            self.counts["skipped"] += 1
            return
        querier = normalize_entity("ip", view.querier) if view.querier else None
        if querier is None and view.querier_host:
            querier = normalize_entity("host", view.querier_host)
        key = (querier.key() if querier else "unknown", parsed.registered)
        pair = self.pairs.get(key)
        if pair is None:
            pair = self.pairs[key] = _Pair(querier, parsed.registered, first=event.time)
        sub = parsed.subdomain
        pair.queries += 1
        pair.first = min(pair.first, event.time)
        pair.last = max(pair.last, event.time)
        pair.types[view.qtype or "?"] += 1
        pair.answer_bytes += max(view.size - len(view.query), 0)
        if sub:
            if len(pair.subdomains) < self.options.max_unique_tracked:
                pair.subdomains.add(sub)
            else:
                pair.capped = True
            pair.sub_bytes += len(sub)
            pair.max_label = max(pair.max_label, max(len(x) for x in sub.split(".")))
            pair.entropy_sum += entropy(sub.replace(".", ""))
            pair.with_sub += 1
        ev = Evidence(
            event.source_path,
            event.record_id,
            event.uid,
            event.time,
            (
                ("query", view.query[:255]),
                ("qtype", view.qtype or "?"),
                ("querier", view.querier or view.querier_host or "?"),
            ),
        )
        if len(pair.early) < 3:
            pair.early.append(ev)
        pair.longest.append((len(sub), ev))
        if len(pair.longest) > 20:
            pair.longest.sort(key=lambda item: -item[0])
            del pair.longest[5:]

    def finish(self) -> list[Finding]:
        if not self.pairs:
            return []
        feats = {key: pair.features() for key, pair in self.pairs.items()}
        baseline = self._baseline(list(feats.values()))
        scored: list[tuple[float, tuple[str, str], dict[str, float]]] = []
        for key, f in feats.items():
            if f["queries"] < self.options.min_queries or (
                f["unique_subdomains"] < self.options.min_unique
            ):
                continue
            score, parts = tunnel_score(f)
            if score >= self.options.threshold:
                scored.append((score, key, parts))
        scored.sort(key=lambda item: -item[0])
        return [
            self._finding(self.pairs[key], score, parts, feats[key], baseline)
            for score, key, parts in scored[: self.options.max_findings]
        ]

    @staticmethod
    def _baseline(rows: list[dict[str, float]]) -> dict[str, tuple[float, float]]:
        out: dict[str, tuple[float, float]] = {}
        for name in BASELINE_FEATURES:
            values = [r[name] for r in rows]
            med = _median(values)
            mad = _median([abs(v - med) for v in values])
            out[name] = (med, mad)
        return out

    def _finding(
        self,
        pair: _Pair,
        score: float,
        parts: dict[str, float],
        f: dict[str, float],
        baseline: dict[str, tuple[float, float]],
    ) -> Finding:
        observed = {}
        for name in BASELINE_FEATURES:
            med, mad = baseline[name]
            z = (f[name] - med) / (1.4826 * mad) if mad > 0 else None
            observed[name] = {
                "observed": round(f[name], 3),
                "population_median": round(med, 3),
                "robust_z": None if z is None else round(z, 1),
            }
        pair.longest.sort(key=lambda item: -item[0])
        evidences = list(pair.early)
        for _, ev in pair.longest[:5]:
            if ev not in evidences:
                evidences.append(ev)
        who = pair.querier.value if pair.querier else "an unknown host"
        entities = ([pair.querier] if pair.querier else []) + [Entity("domain", pair.domain)]
        return Finding(
            analytic_uid=self.id,
            analytic_name=self.name,
            title=f"Possible DNS tunnel: {who} -> {pair.domain} ({int(f['unique_subdomains'])}"
            f"{'+' if pair.capped else ''} unique subdomains, "
            f"{f['mean_subdomain_length']:.0f} chars on average)",
            time=pair.first,
            severity_id=SEVERITY_HIGH if score >= 0.8 else SEVERITY_MEDIUM,
            confidence=round(100 * score),
            evidences=evidences,
            attacks=[
                attack_of("T1071.004", "command-and-control"),
                attack_of("T1048", "exfiltration"),
            ],
            entities=entities,
            analytic_type="ml",
            description="Many unique, long, high-entropy subdomains under one registered "
            "domain: data carried in DNS query names.",
            explanation={
                "score_parts": parts,
                "features": observed,
                "record_types": dict(pair.types.most_common(6)),
                "window": {"first": pair.first, "last": pair.last},
                "pairs_in_population": len(self.pairs),
            },
            model_version=VERSION,
        )

    def stats(self) -> dict[str, Any]:
        return {**self.counts, "pairs": len(self.pairs)}


@DETECTORS.register("ml.dns_tunnel")
def _factory(ctx: DetectorContext) -> Detector | None:
    return DnsTunnelDetector(options_of(ctx, TunnelOptions))
