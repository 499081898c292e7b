"""``ml.egress``: large uploads from one internal host to a rare outside address.

``observe`` reads every outbound transfer (``transfers``) and adds it to its (internal
source, outside destination, UTC day) bucket: bytes out, bytes back, connections, ports,
and the largest connections as evidence. ``finish`` reports a bucket when all of these hold
(thresholds fixed up front, options of ``[detectors."ml.egress"]``):

* volume: at least ``min_bytes`` sent to that one address that day;
* direction of the exchange: mostly sent, not received -- the producer-consumer ratio
  PCR = (out - in) / (out + in) is at least ``min_pcr`` (a video call or a download sends
  back as much or more: PCR <= 0; an upload of files is close to 1);
* rarity: at most ``max_clients`` internal hosts ever sent anything to the address (this
  run and the stored history): fifty hosts uploading to one place is a service;
* above the host's own record: the bytes are at least ``min_ratio`` times the most it sent
  to any one outside address on any of its previous days (``history_days`` back, at least
  ``min_history_days`` of them known); a host without that much history is compared with
  its peers instead (the ``peer_quantile`` of the other hosts' daily records, when at least
  ``min_peer_sources`` hosts are known; with a day or two of its own, the larger of the
  two); a reference is never taken below ``floor_bytes``.
  A host with neither (a capture of one machine, the first day of a deployment) is
  reported on volume, direction and rarity alone, and the finding says so.

Baselines (each host's daily upload record, each destination's senders) are kept between
runs in the state database (``baseline``), learnt after scoring, each ingest batch once.

Confidence is a fixed heuristic scale stated in the explanation (not a calibrated
probability): 50, +15 when the destination was never sent to before this day, +10 when
this host is its only sender, +10 / +5 for a ratio of at least 100 / 10 to the reference,
+5 for PCR >= 0.9, -15 without any reference. Severity: High for at least 1 GB or 100x the
reference to a destination only this host uses, Low without a reference, else Medium.
ATT&CK: T1048 for non-web protocols (SSH, FTP, SMB, odd ports), T1041 and T1567 (the C2
channel or a web service: the flow alone cannot tell) for web ports.

Memory is bounded: at most ``max_buckets`` buckets (on overflow the smallest, far below
``min_bytes``, are dropped and counted) and ``max_destinations`` tracked destinations.
Stated limits: exfiltration to a popular destination (a cloud service many hosts use), or
spread thinly across many addresses or days, is not seen; a transfer crossing midnight
is scored as two days; Zeek logs a long connection at its start time.
"""

from __future__ import annotations

import heapq
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from garrison.core.attack import attack_of
from garrison.core.entities import Entity, normalize_entity
from garrison.core.events import Event
from garrison.core.findings import (
    SEVERITY_HIGH,
    SEVERITY_LOW,
    SEVERITY_MEDIUM,
    Attack,
    Evidence,
    Finding,
)
from garrison.core.timeutil import iso, now_ms
from garrison.detect.base import Detector, DetectorContext
from garrison.detect.ml.egress.baseline import (
    CLIENTS_KEPT,
    DAY_MS,
    DayFigures,
    DestinationRecord,
    EgressBaseline,
)
from garrison.detect.ml.egress.transfers import Transfer, transfer_of
from garrison.store.state import StateDB

MODEL_VERSION = "egress-1.0"
WEB_PORTS = frozenset({80, 443, 8000, 8008, 8080, 8443})
WEB_SERVICES = frozenset({"http", "ssl", "tls", "https", "quic"})
GB = 1_000_000_000

#: (source path, record id, event uid, time, bytes out, bytes in, port)
EvidenceRef = tuple[str, int, str, int, int, int, int | None]
BucketKey = tuple[str, str, int]  # (source ip, destination ip, UTC day number)


@dataclass(slots=True)
class EgressConfig:
    """Options (``[detectors."ml.egress"]`` in garrison.toml); sizes in bytes."""

    min_bytes: int = 20_000_000
    min_ratio: float = 10.0
    floor_bytes: int = 1_000_000
    min_pcr: float = 0.5
    max_clients: int = 3
    min_history_days: int = 2
    history_days: int = 30
    min_peer_sources: int = 5
    peer_quantile: float = 0.95
    #: Addresses or networks never reported (an off-site backup service, say).
    allow: list[str] = field(default_factory=list)
    max_buckets: int = 1_000_000
    max_destinations: int = 2_000_000
    max_evidence: int = 10
    max_findings: int = 100
    retention_days: int = 90

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> tuple[EgressConfig, list[str]]:
        known = {f.name for f in fields(cls)}
        config = cls(**{k: v for k, v in options.items() if k in known})
        return config, sorted(set(options) - known)


@dataclass(slots=True)
class Bucket:
    first: int
    last: int
    bytes_out: int = 0
    bytes_in: int = 0
    flows: int = 0
    ports: set[int] = field(default_factory=set)
    services: set[str] = field(default_factory=set)
    src_names: set[str] = field(default_factory=set)
    #: min-heap of (bytes out, sequence, evidence): the largest connections.
    top: list[tuple[int, int, EvidenceRef]] = field(default_factory=list)

    @property
    def pcr(self) -> float:
        """Producer-consumer ratio: 1 all sent, 0 balanced, -1 all received."""
        total = self.bytes_out + self.bytes_in
        return (self.bytes_out - self.bytes_in) / total if total else 0.0


@dataclass(slots=True)
class Reference:
    kind: str  # "own history" | "own history and peers" | "peers" | "none"
    value: int = 0
    days: int = 0
    sources: int = 0


@dataclass(slots=True)
class Candidate:
    key: BucketKey
    bucket: Bucket
    dest: DestinationRecord
    ref: Reference
    ratio: float | None


class EgressDetector(Detector):
    id = "ml.egress"
    name = "Large outbound transfer (exfiltration)"

    def __init__(self, config: EgressConfig | None = None, state: StateDB | None = None) -> None:
        self.config = config or EgressConfig()
        self.baseline = EgressBaseline(state, self.config.retention_days)
        self.allow = _networks(self.config.allow)
        self.buckets: dict[BucketKey, Bucket] = {}
        self.days_new: dict[tuple[str, int], int] = {}
        self.destinations: dict[str, DestinationRecord] = {}
        self.batches_new: set[str] = set()
        self._batch_seen: dict[str, bool] = {}
        self.newest = 0
        self.seq = 0
        self.counts: dict[str, int] = {}
        self.prune_floor = 0
        self.ignored_options: list[str] = []

    # -- streaming -----------------------------------------------------------------------
    def observe(self, events: Sequence[Event]) -> list[Finding]:
        for event in events:
            try:
                transfer = transfer_of(event)
            except Exception:  # hostile content must never stop the run
                transfer = None
            if transfer is not None:
                self._add(transfer, event)
        return []

    def _note(self, what: str, amount: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + amount

    def _is_new_batch(self, fingerprint: str) -> bool:
        known = self._batch_seen.get(fingerprint)
        if known is None:
            known = not fingerprint or not self.baseline.learnt_batches([fingerprint])
            self._batch_seen[fingerprint] = known
            if known and fingerprint:
                self.batches_new.add(fingerprint)
        return known

    def _add(self, t: Transfer, event: Event) -> None:
        self._note("outbound_transfers")
        day = t.time // DAY_MS
        self.newest = max(self.newest, t.time)
        if self._is_new_batch(event.provenance.batch_fingerprint):
            self.days_new[(t.src, day)] = self.days_new.get((t.src, day), 0) + t.bytes_out
        dest = self.destinations.get(t.dst)
        if dest is None:
            if len(self.destinations) < self.config.max_destinations:
                dest = self.destinations[t.dst] = DestinationRecord(t.time, t.time)
            else:
                self._note("destinations_untracked")
        if dest is not None:
            dest.add(t.src, t.time)
        key = (t.src, t.dst, day)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(t.time, t.time)
            if len(self.buckets) > self.config.max_buckets:
                self._prune()
                bucket = self.buckets.setdefault(key, Bucket(t.time, t.time))
        bucket.first, bucket.last = min(bucket.first, t.time), max(bucket.last, t.time)
        bucket.bytes_out += t.bytes_out
        bucket.bytes_in += t.bytes_in
        bucket.flows += 1
        if t.port is not None and len(bucket.ports) < 8:
            bucket.ports.add(t.port)
        if t.service and len(bucket.services) < 8:
            bucket.services.add(t.service)
        if t.src_name and len(bucket.src_names) < 4:
            bucket.src_names.add(t.src_name)
        self.seq += 1
        ref = (event.source_path, event.record_id, event.uid, t.time, t.bytes_out, t.bytes_in)
        item = (t.bytes_out, self.seq, (*ref, t.port))
        if len(bucket.top) < self.config.max_evidence:
            heapq.heappush(bucket.top, item)
        elif t.bytes_out > bucket.top[0][0]:
            heapq.heapreplace(bucket.top, item)

    def _prune(self) -> None:
        """Drop the smallest buckets (far below ``min_bytes``) until half the room is free;
        a dropped bucket lost less than the final floor, which ``stats`` reports."""
        floor = max(self.prune_floor, self.config.min_bytes // 1000, 1)
        while len(self.buckets) > self.config.max_buckets // 2 and floor < self.config.min_bytes:
            small = [k for k, b in self.buckets.items() if b.bytes_out < floor]
            for k in small:
                del self.buckets[k]
            self._note("buckets_pruned", len(small))
            self.prune_floor = floor
            floor *= 4

    # -- scoring -------------------------------------------------------------------------
    def finish(self) -> list[Finding]:
        run_days = self._run_days()
        candidates = [
            (k, b)
            for k, b in self.buckets.items()
            if b.bytes_out >= self.config.min_bytes and b.pcr >= self.config.min_pcr
        ]
        self._note("candidates", len(candidates))
        fired: list[Candidate] = []
        if candidates:
            fired = self._score(candidates, run_days)
        fired.sort(key=lambda c: (-c.bucket.bytes_out, c.key))
        findings = [self._finding(c) for c in fired[: self.config.max_findings]]
        self._learn(run_days)
        return findings

    def _run_days(self) -> dict[tuple[str, int], int]:
        """(source, day) -> the most it sent to one outside address that day, this run."""
        out: dict[tuple[str, int], int] = {}
        for (src, _dst, day), b in self.buckets.items():
            out[(src, day)] = max(out.get((src, day), 0), b.bytes_out)
        for key in self.days_new:
            out.setdefault(key, 0)
        return out

    def _score(
        self, candidates: list[tuple[BucketKey, Bucket]], run_days: dict[tuple[str, int], int]
    ) -> list[Candidate]:
        cfg = self.config
        first_day = min(k[2] for k, _ in candidates) - cfg.history_days
        stored_dests = self.baseline.destinations({k[1] for k, _ in candidates})
        own: dict[str, dict[int, int]] = self.baseline.source_days(
            {k[0] for k, _ in candidates}, first_day
        )
        for (src, day), value in run_days.items():
            days = own.setdefault(src, {})
            days[day] = max(days.get(day, 0), value)
        fleet: dict[tuple[str, int], int] | None = None
        fired: list[Candidate] = []
        for key, bucket in candidates:
            src, dst, day = key
            if _allowed(dst, self.allow):
                self._note("allow-listed")
                continue
            dest = _merged(stored_dests.get(dst), self.destinations.get(dst))
            if dest.clients > cfg.max_clients:
                self._note("popular-destination")
                continue
            history = [v for d, v in own.get(src, {}).items() if day - cfg.history_days <= d < day]
            if len(history) >= cfg.min_history_days:
                ref = Reference("own history", max(history), days=len(history))
            else:
                if fleet is None:
                    fleet = self._fleet(first_day, run_days)
                ref = _short_history(history, self._peers(fleet, src, day))
            ratio = None
            if ref.kind != "none":
                ratio = bucket.bytes_out / max(ref.value, cfg.floor_bytes)
                if ratio < cfg.min_ratio:
                    self._note("within-baseline")
                    continue
            self._note(f"reference: {ref.kind}")
            fired.append(Candidate(key, bucket, dest, ref, ratio))
        return fired

    def _fleet(
        self, first_day: int, run_days: dict[tuple[str, int], int]
    ) -> dict[tuple[str, int], int]:
        fleet = {(s, d): v for s, d, v in self.baseline.fleet_days(first_day)}
        for key, value in run_days.items():
            fleet[key] = max(fleet.get(key, 0), value)
        return fleet

    def _peers(self, fleet: dict[tuple[str, int], int], src: str, day: int) -> Reference:
        cfg = self.config
        values = [
            v for (s, d), v in fleet.items() if s != src and day - cfg.history_days <= d <= day
        ]
        sources = len({s for (s, d) in fleet if s != src and day - cfg.history_days <= d <= day})
        if sources < cfg.min_peer_sources or not values:
            return Reference("none")
        values.sort()
        index = min(len(values) - 1, int(cfg.peer_quantile * len(values)))
        return Reference("peers", values[index], days=len(values), sources=sources)

    def _learn(self, run_days: dict[tuple[str, int], int]) -> None:
        days = {
            key: DayFigures(self.days_new.get(key, 0), max_pair)
            for key, max_pair in run_days.items()
        }
        try:
            self.baseline.save(days, self.destinations, self.batches_new, now_ms(), self.newest)
        except Exception:  # a state problem must not lose the run's findings
            self._note("baseline_save_failed")

    # -- reporting -----------------------------------------------------------------------
    def _finding(self, c: Candidate) -> Finding:
        src, dst, day = c.key
        b, dest, ref, cfg = c.bucket, c.dest, c.ref, self.config
        new_destination = dest.first_seen >= day * DAY_MS
        only_this_host = dest.clients <= 1
        confidence, parts = _confidence(c.ratio, new_destination, only_this_host, b.pcr)
        strong = b.bytes_out >= GB or (c.ratio is not None and c.ratio >= 100)
        if ref.kind == "none":
            severity = SEVERITY_LOW
        elif strong and only_this_host:
            severity = SEVERITY_HIGH
        else:
            severity = SEVERITY_MEDIUM
        ports = sorted(b.ports)
        services = sorted(b.services)
        web = bool(set(ports) & WEB_PORTS) or bool(set(services) & WEB_SERVICES)
        observed = (
            f"{human_bytes(b.bytes_out)} sent from {src} to {dst} in {b.flows} connection(s) "
            f"on {iso(day * DAY_MS)[:10]} ({_where(ports, services)}), "
            f"{human_bytes(b.bytes_in)} received: producer-consumer ratio {b.pcr:.2f}"
        )
        baseline = _baseline_text(ref, c.ratio, cfg.floor_bytes)
        prevalence = f"{dst}: first sent to {iso(dest.first_seen)}; " + (
            "only this host ever sent to it"
            if only_this_host
            else f"{dest.clients} internal hosts ever sent to it"
        )
        evidences = sorted((ref_ for _, _, ref_ in b.top), key=lambda r: (r[3], r[1]))
        ratio_text = f", {c.ratio:,.0f}x its {ref.kind} record" if c.ratio is not None else ""
        explanation: dict[str, Any] = {
            "observed": observed,
            "baseline": baseline,
            "destination": prevalence,
            "bytes_out": b.bytes_out,
            "bytes_in": b.bytes_in,
            "producer_consumer_ratio": round(b.pcr, 4),
            "connections": b.flows,
            "first_connection": iso(b.first),
            "last_connection": iso(b.last),
            "ports": ports,
            "services": services,
            "reference": {
                "kind": ref.kind,
                "bytes": ref.value,
                "days": ref.days,
                **({"peer_sources": ref.sources} if "peers" in ref.kind else {}),
                "floor_bytes": cfg.floor_bytes,
            },
            "ratio_to_reference": round(c.ratio, 2) if c.ratio is not None else None,
            "destination_clients": dest.clients if dest.clients <= CLIENTS_KEPT else "many",
            "destination_first_seen": iso(dest.first_seen),
            "destination_new_today": new_destination,
            "thresholds": {
                "min_bytes": cfg.min_bytes,
                "min_pcr": cfg.min_pcr,
                "max_clients": cfg.max_clients,
                "min_ratio": cfg.min_ratio,
            },
            "confidence_parts": parts,
            "confidence_basis": "fixed heuristic scale (see ml.egress), set before "
            "evaluation; not a calibrated probability",
            "model_version": MODEL_VERSION,
        }
        return Finding(
            analytic_uid=self.id,
            analytic_name=self.name,
            title=f"Large upload from {src} to rare address {dst}: "
            f"{human_bytes(b.bytes_out)} on {iso(day * DAY_MS)[:10]}{ratio_text}",
            time=min((e[3] for e in evidences), default=b.first),
            severity_id=severity,
            confidence=confidence,
            evidences=[
                Evidence(
                    path,
                    record,
                    uid,
                    time,
                    summary=_summary(src, dst, port, out, back),
                )
                for path, record, uid, time, out, back, port in evidences
            ],
            attacks=_attacks(web),
            entities=_entities(src, dst, b),
            analytic_type="ml",
            description="upload volume to a rare outside address versus the host's own "
            "record (or its peers'), with the direction of the exchange",
            explanation=explanation,
            model_version=MODEL_VERSION,
        )

    def stats(self) -> dict[str, Any]:
        return {
            **self.counts,
            "buckets": len(self.buckets),
            "destinations": len(self.destinations),
            "prune_floor_bytes": self.prune_floor,
            "batches_learnt": len(self.batches_new),
            "ignored_options": self.ignored_options,
        }


def _merged(stored: DestinationRecord | None, run: DestinationRecord | None) -> DestinationRecord:
    if stored is None and run is None:
        return DestinationRecord(0, 0)
    if stored is None or run is None:
        only = stored or run
        assert only is not None
        return DestinationRecord(only.first_seen, only.last_seen, set(only.sources), only.popular)
    out = DestinationRecord(stored.first_seen, stored.last_seen, set(stored.sources))
    out.popular = stored.popular or run.popular
    for source in sorted(run.sources):
        out.add(source, run.first_seen)
    out.last_seen = max(out.last_seen, run.last_seen)
    return out


def _short_history(history: list[int], peers: Reference) -> Reference:
    """A host with a little history: the larger of its own record and its peers'."""
    if not history:
        return peers
    own = max(history)
    if peers.kind == "none":
        return Reference("own history", own, days=len(history))
    return Reference(
        "own history and peers", max(own, peers.value), days=len(history), sources=peers.sources
    )


def _confidence(
    ratio: float | None, new_destination: bool, only_this_host: bool, pcr: float
) -> tuple[int, dict[str, int]]:
    parts = {"base": 50}
    if new_destination:
        parts["destination never sent to before this day"] = 15
    if only_this_host:
        parts["only this host sends to it"] = 10
    if ratio is None:
        parts["no reference (no history, no peers)"] = -15
    elif ratio >= 100:
        parts["at least 100x the reference"] = 10
    else:
        parts["at least 10x the reference"] = 5
    if pcr >= 0.9:
        parts["almost only sent (PCR >= 0.9)"] = 5
    return max(5, min(95, sum(parts.values()))), parts


def _baseline_text(ref: Reference, ratio: float | None, floor: int) -> str:
    if ref.kind == "none" or ratio is None:
        return (
            "no reference: the host has too little history and there are too few peer "
            "hosts to compare with; reported on volume, direction and rarity alone"
        )
    floor_note = f" (taken as {human_bytes(floor)}, the floor)" if ref.value < floor else ""
    if ref.kind == "own history":
        return (
            f"the most it sent to any one outside address on its {ref.days} previous "
            f"day(s): {human_bytes(ref.value)}{floor_note}; this is {ratio:,.1f}x that"
        )
    if ref.kind == "own history and peers":
        return (
            f"only {ref.days} previous day(s) of its own, so the larger of its record and "
            f"its {ref.sources} peer hosts' 95th percentile of the daily most sent to one "
            f"outside address: {human_bytes(ref.value)}{floor_note}; this is {ratio:,.1f}x that"
        )
    return (
        f"no history of its own; among {ref.sources} peer host(s), the daily most sent to "
        f"one outside address is {human_bytes(ref.value)} at the 95th percentile"
        f"{floor_note}; this is {ratio:,.1f}x that"
    )


def _where(ports: list[int], services: list[str]) -> str:
    parts = []
    if services:
        parts.append("/".join(services))
    if ports:
        parts.append("port " + ", ".join(str(p) for p in ports))
    return "; ".join(parts) or "protocol unknown"


def _attacks(web: bool) -> list[Attack]:
    if web:
        return [attack_of("T1041", "exfiltration"), attack_of("T1567", "exfiltration")]
    return [attack_of("T1048", "exfiltration")]


def _entities(src: str, dst: str, bucket: Bucket) -> list[Entity]:
    found: list[Entity | None] = [normalize_entity("ip", src)]
    found.extend(normalize_entity("host", name) for name in sorted(bucket.src_names))
    found.append(normalize_entity("ip", dst))
    out: list[Entity] = []
    for entity in found:
        if entity is not None and entity not in out:
            out.append(entity)
    return out


def _summary(
    src: str, dst: str, port: int | None, out: int, back: int
) -> tuple[tuple[str, str], ...]:
    parts = [
        ("src", src),
        ("dst", dst),
        ("port", "" if port is None else str(port)),
        ("bytes out", str(out)),
        ("bytes in", str(back)),
    ]
    return tuple((k, v) for k, v in parts if v)


def human_bytes(n: float) -> str:
    """1234567 -> '1.2 MB' (decimal units, as network tools print them)."""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(items: Sequence[str]) -> tuple[Network, ...]:
    out: list[Network] = []
    for item in items:
        try:
            out.append(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError:
            continue
    return tuple(out)


def _allowed(dst: str, networks: tuple[Network, ...]) -> bool:
    if not networks:
        return False
    try:
        addr = ipaddress.ip_address(dst)
    except ValueError:
        return False
    return any(addr in net for net in networks)


def build(ctx: DetectorContext) -> EgressDetector:
    config, unknown = EgressConfig.from_options(dict(ctx.options or {}))
    detector = EgressDetector(config, ctx.state)
    detector.ignored_options = unknown
    return detector
