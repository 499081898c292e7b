"""``ml.egress`` findings: what a reported (source, destination, day) bucket says.

The figures an analyst checks first, RITA-style: bytes sent and received, the
producer-consumer ratio, the connections and ports, the reference the volume is compared
with and the ratio to it, and how many internal hosts ever sent to the destination. The
confidence is the fixed heuristic scale described in ``detector`` with its parts listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from garrison.core.attack import attack_of
from garrison.core.entities import Entity, normalize_entity
from garrison.core.findings import (
    SEVERITY_HIGH,
    SEVERITY_LOW,
    SEVERITY_MEDIUM,
    Attack,
    Evidence,
    Finding,
)
from garrison.core.timeutil import iso
from garrison.detect.ml.egress.baseline import CLIENTS_KEPT, DAY_MS, DestinationRecord
from garrison.detect.ml.egress.config import EgressConfig

MODEL_VERSION = "egress-1.0"
WEB_PORTS = frozenset({80, 443, 8000, 8008, 8080, 8443})
WEB_SERVICES = frozenset({"http", "ssl", "tls", "https", "quic"})
GB = 1_000_000_000

#: (source path, record id, event uid, time, bytes out, bytes in, port)
EvidenceRef = tuple[str, int, str, int, int, int, int | None]
BucketKey = tuple[str, str, int]  # (source ip, destination ip, UTC day number)


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
    #: min-heap of (bytes out, sequence, evidence): the largest connections (``heapq``).
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


def build_finding(c: Candidate, cfg: EgressConfig, analytic_uid: str, name: str) -> Finding:
    """The finding for one reported bucket: figures, explanation, evidence, ATT&CK."""
    src, dst, day = c.key
    b, dest, ref = c.bucket, c.dest, c.ref
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
        analytic_uid=analytic_uid,
        analytic_name=name,
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
