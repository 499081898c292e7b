"""``ml.beacon``: command-and-control beaconing on connection logs.

Per (source IP, destination IP) and per (source IP, HTTP host / TLS SNI) the detector keeps
the connection times and sizes (``observe``), and at the end of the run scores each pair
with the four-part score of ``stats`` (timing and size regularity, hourly spread,
persistence). Pairs that reach ``threshold`` -- and whose timing is more regular than
random traffic with the same count would be by chance (``max_p_value``, see ``null``) --
become findings, strongest first, after the
benign-beacon suppression described in ``suppress``. A beacon seen both by IP and by host
name is reported once, under the host name, with the IPs attached.

A finding's confidence is the beacon score mapped to P(C2) by the label-fitted calibration
shipped in ``models/beacon.calibration.json`` (``detect.ml.calibration``; option
``calibration``: a path, or "none"). The explanation keeps the raw tail figure beside it,
``tail_confidence`` = 1 - p of the timing regularity under random (Poisson) traffic, which
says how unusual the timing is, not how often such pairs are C2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from garrison.core.attack import attack_of
from garrison.core.entities import Entity, normalize_entity
from garrison.core.events import Event
from garrison.core.findings import (
    SEVERITY_HIGH,
    SEVERITY_LOW,
    SEVERITY_MEDIUM,
    Evidence,
    Finding,
)
from garrison.core.options import option
from garrison.core.timeutil import iso
from garrison.detect.base import Detector, DetectorContext
from garrison.detect.ml.beacon.connections import Connection, connection_of
from garrison.detect.ml.beacon.null import timing_p_value
from garrison.detect.ml.beacon.state import PairKey, PairState, PairTable
from garrison.detect.ml.beacon.stats import BeaconScore, Weights, Window, score_pair
from garrison.detect.ml.beacon.suppress import Suppressor, is_inbound
from garrison.detect.ml.calibration import Calibration, load_calibration
from garrison.detect.options import options_of

MODEL_VERSION = "beacon-1.0"
TLS_PORTS = frozenset({443, 465, 636, 853, 993, 995, 8443})
WEIGHT_KEYS = ("timing", "size", "histogram", "duration")


@dataclass(slots=True)
class BeaconConfig:
    """Options (``[detectors."ml.beacon"]`` in garrison.toml)."""

    threshold: float = 0.75
    #: ... and timing more regular than random (Poisson) traffic reaches with this chance.
    #: Persistence and hourly spread alone make a busy random pair look beacon-like, and a
    #: network has thousands of pairs: 1 % keeps chance hits rare (bench_beacon.py).
    max_p_value: float = 0.01
    #: Distinct connection times a pair needs before it is scored (RITA's minimum is 4).
    min_connections: int = 4
    max_findings: int = 100
    dedupe_ms: int = 1000
    #: A destination that at least this many sources talk to regularly is a service.
    popular_min_sources: int = 5
    #: ... or that at least this share of all (>= 4) sources talk to.
    popular_fraction: float = 0.5
    max_pairs: int = 200_000
    max_per_pair: int = 1000
    max_timestamps: int = 5_000_000
    resolvers: list[str] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)
    service_ports: list[int] | None = None
    #: Sub-score weights (RITA's four): any of timing, size, histogram, duration.
    weights: dict[str, float] = option(default_factory=dict, keys=WEIGHT_KEYS, min=0)
    #: Score -> P(C2) calibration: "" the shipped one, "none" raw tail figures, or a path.
    calibration: str = ""


@dataclass(slots=True)
class Scored:
    key: PairKey
    state: PairState
    score: BeaconScore
    p_value: float
    ips: list[str] = field(default_factory=list)


class BeaconDetector(Detector):
    id = "ml.beacon"
    name = "C2 beaconing (timing and size regularity)"

    def __init__(self, config: BeaconConfig | None = None) -> None:
        self.config = config or BeaconConfig()
        self.weights = Weights(
            **{
                k: float(v)
                for k, v in self.config.weights.items()
                if k in ("timing", "size", "histogram", "duration")
            }
        )
        self.table = PairTable(
            self.config.max_pairs, self.config.max_per_pair, self.config.max_timestamps
        )
        self.suppressor = Suppressor.from_options(
            self.config.resolvers, self.config.allow, self.config.service_ports
        )
        self.window_start: int | None = None
        self.window_end: int | None = None
        self.connections = 0
        self.scored_pairs = 0
        self.popular: dict[str, int] = {}
        self.calibration: Calibration | None
        self.calibration, self.calibration_note = load_calibration(
            "beacon", str(self.config.calibration)
        )

    # -- streaming -------------------------------------------------------------------
    def observe(self, events: Sequence[Event]) -> list[Finding]:
        for event in events:
            try:
                conn = connection_of(event)
            except Exception:  # hostile content must never stop the run
                conn = None
            if conn is not None:
                self._add(conn, event)
        return []

    def _add(self, conn: Connection, event: Event) -> None:
        self.connections += 1
        self.window_start = (
            conn.time if self.window_start is None else min(self.window_start, conn.time)
        )
        self.window_end = conn.time if self.window_end is None else max(self.window_end, conn.time)
        if is_inbound(conn.src, conn.dst, conn.local_orig, conn.local_resp):
            self.suppressor.note("inbound")
            return
        reason = self.suppressor.connection_reason(
            conn.src, conn.proto, conn.src_port
        ) or self.suppressor.destination_reason(conn.dst, conn.host, conn.port)
        if reason:
            self.suppressor.note(reason)
            return
        evidence = (event.source_path, event.record_id, event.uid, conn)
        if conn.dst is not None:
            self.table.add(
                ("ip", conn.src, conn.dst),
                conn.time,
                conn.size,
                conn.port,
                conn.service,
                conn.src_name,
                conn.dst,
                evidence,
            )
        if conn.host is not None:
            self.table.add(
                ("host", conn.src, conn.host),
                conn.time,
                conn.size,
                conn.port,
                conn.service,
                conn.src_name,
                conn.dst,
                evidence,
            )

    # -- scoring ---------------------------------------------------------------------
    def finish(self) -> list[Finding]:
        if self.window_start is None or self.window_end is None:
            return []
        window = Window(self.window_start, self.window_end)
        self.popular = self._popular_destinations()
        fired: list[Scored] = []
        for key, state in self.table.pairs.items():
            if state.count < self.config.min_connections:
                continue
            if key[2] in self.popular:
                self.suppressor.note("popular-destination", state.count)
                continue
            score = score_pair(
                state.times,
                state.sizes,
                window,
                state.first,
                state.last,
                self.weights,
                self.config.dedupe_ms,
            )
            if score.count < self.config.min_connections:
                continue
            self.scored_pairs += 1
            if score.score < self.config.threshold:
                continue
            p_value = timing_p_value(score.timing, score.count)
            if p_value > self.config.max_p_value:
                self.suppressor.note("timing-like-random")
                continue
            fired.append(Scored(key, state, score, p_value))
        fired = _merge_host_and_ip(fired)
        fired.sort(key=lambda s: (-s.score.score, s.p_value, s.key))
        return [self._finding(s) for s in fired[: self.config.max_findings]]

    def _popular_destinations(self) -> dict[str, int]:
        sources: dict[str, set[str]] = {}
        for (_, src, dst), state in self.table.pairs.items():
            if state.count >= self.config.min_connections:
                sources.setdefault(dst, set()).add(src)
        all_sources = {s for srcs in sources.values() for s in srcs}
        need = self.config.popular_min_sources
        if len(all_sources) >= 4:
            need = min(need, max(2, int(self.config.popular_fraction * len(all_sources))))
        return {dst: len(srcs) for dst, srcs in sources.items() if len(srcs) >= need}

    def _finding(self, item: Scored) -> Finding:
        kind, src, dst = item.key
        s = item.score
        w = s.weights
        contributions = sorted(
            ((name, round(w[name] * getattr(s, name), 4)) for name in w), key=lambda kv: -kv[1]
        )
        tls = bool(item.state.ports & TLS_PORTS) or bool(
            item.state.services & {"ssl", "tls", "https"}
        )
        attacks = [attack_of("T1071", "command-and-control")]
        if tls:
            attacks.append(attack_of("T1573", "command-and-control"))
        entities = _entities(kind, src, dst, item)
        observed = (
            f"{s.count} connections every {s.interval_median_s:.1f}s "
            f"(jitter +/-{s.interval_mad_s:.1f}s), median {s.size_median:.0f} bytes"
        )
        baseline = (
            f"random (Poisson) traffic with {s.count} connections is this regular "
            f"with p={item.p_value:.4f}"
        )
        confidence, basis = self._confidence(s.score, item.p_value)
        explanation = {
            "pair": {"kind": kind, "source": src, "destination": dst},
            "observed": observed,
            "baseline": baseline,
            "sub_scores": s.as_dict(),
            "top_features": [
                {"feature": n, "weight": round(w[n], 4), "contribution": c}
                for n, c in contributions
            ],
            "connections_seen": item.state.count,
            "bytes_total": round(item.state.bytes_total, 1),
            "first_seen": iso(item.state.first),
            "last_seen": iso(item.state.last),
            "ports": sorted(item.state.ports),
            "services": sorted(item.state.services),
            "destination_ips": item.ips or sorted(item.state.dst_ips),
            "p_value_random_timing": round(item.p_value, 6),
            "confidence": round(confidence, 4),
            "confidence_basis": basis,
            "tail_confidence": round(1.0 - item.p_value, 6),
            "tail_confidence_basis": "1 - p of the timing regularity under a Poisson null "
            "model: how unusual the timing is, not a probability of C2",
            "calibration": self.calibration.summary() if self.calibration else None,
            "model_version": MODEL_VERSION,
        }
        severity = (
            SEVERITY_HIGH
            if s.score >= 0.9
            else (SEVERITY_MEDIUM if s.score >= 0.8 else SEVERITY_LOW)
        )
        return Finding(
            analytic_uid=self.id,
            analytic_name=self.name,
            title=f"Beaconing from {src} to {dst}: {observed}",
            time=item.state.first,
            severity_id=severity,
            confidence=round(100 * confidence),
            evidences=[
                Evidence(path, record, uid, c.time, summary=_summary(c))
                for path, record, uid, c in item.state.evidences()
            ],
            attacks=attacks,
            entities=entities,
            analytic_type="ml",
            description=f"beacon score {s.score:.2f} ({kind} pair)",
            explanation=explanation,
            model_version=MODEL_VERSION,
        )

    def _confidence(self, score: float, p_value: float) -> tuple[float, str]:
        """Calibrated P(C2 | beacon score), or the raw 1 - p when no calibration loads."""
        if self.calibration is None:
            return 1.0 - p_value, f"{self.calibration_note}; 1 - p under a Poisson null model"
        return (
            self.calibration.probability(score),
            "P(C2 | beacon score), Platt-calibrated on labelled Stratosphere captures "
            "(few positives: see calibration)",
        )

    def stats(self) -> dict[str, Any]:
        return {
            "calibration": self.calibration.name if self.calibration else self.calibration_note,
            "connections": self.connections,
            "pairs": len(self.table),
            "pairs_scored": self.scored_pairs,
            "pairs_evicted": self.table.evicted,
            "pairs_trimmed": self.table.trimmed,
            "suppressed": dict(self.suppressor.counts),
            "popular_destinations": len(self.popular),
        }


def _merge_host_and_ip(fired: list[Scored]) -> list[Scored]:
    """Drop an IP pair already reported under a host name of the same source."""
    covered: set[tuple[str, str]] = set()
    for item in fired:
        if item.key[0] == "host":
            item.ips = sorted(item.state.dst_ips)
            covered.update((item.key[1], ip) for ip in item.ips)
    return [i for i in fired if not (i.key[0] == "ip" and (i.key[1], i.key[2]) in covered)]


def _entities(kind: str, src: str, dst: str, item: Scored) -> list[Entity]:
    found: list[Entity | None] = [normalize_entity("ip", src)]
    found.extend(normalize_entity("host", name) for name in sorted(item.state.src_names))
    if kind == "host":
        found.append(normalize_entity("domain", dst))
        found.extend(normalize_entity("ip", ip) for ip in item.ips[:4])
    else:
        found.append(normalize_entity("ip", dst))
    out: list[Entity] = []
    for entity in found:
        if entity is not None and entity not in out:
            out.append(entity)
    return out


def _summary(conn: Connection) -> tuple[tuple[str, str], ...]:
    parts = [
        ("src", conn.src),
        ("dst", conn.dst or ""),
        ("host", conn.host or ""),
        ("port", "" if conn.port is None else str(conn.port)),
        ("bytes", "" if conn.size is None else f"{conn.size:.0f}"),
    ]
    return tuple((k, v) for k, v in parts if v)


def build(ctx: DetectorContext) -> BeaconDetector:
    return BeaconDetector(options_of(ctx, BeaconConfig))
