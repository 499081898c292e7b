"""Per-entity, per-hour feature vectors built from the run's events.

Each event is charged to one entity -- the host that logged it (``device.hostname``,
Windows ``Computer``, syslog ``hostname``) or, for network logs that name no host, the
source IP -- and to the UTC hour it happened in. The vector counts what the entity did in
that hour: events by class, authentication successes and failures, distinct users,
connections, distinct destinations and ports, bytes out and in, DNS queries, distinct
domains and NXDOMAIN answers, HTTP requests, process starts and distinct processes.

Bounded memory: at most ``max_vectors`` entity-hours (least recently updated evicted) and
at most ``DISTINCT_CAP`` members per distinct-count set (the count saturates there).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from garrison.core.events import (
    CLASS_AUTHENTICATION,
    CLASS_DNS_ACTIVITY,
    CLASS_HTTP_ACTIVITY,
    CLASS_NETWORK_ACTIVITY,
    CLASS_PROCESS_ACTIVITY,
    Event,
)
from garrison.core.findings import Evidence
from garrison.core.paths import dig
from garrison.detect.ml.beacon.connections import as_ip, as_size, lookup
from garrison.detect.ml.ueba.authevents import FAILURE, SUCCESS, auth_event_of

HOUR_MS = 3_600_000
DISTINCT_CAP = 512
FEATURES = (
    "events",
    "auth_success",
    "auth_failure",
    "distinct_users",
    "connections",
    "distinct_dst_ips",
    "distinct_dst_ports",
    "bytes_out",
    "bytes_in",
    "dns_queries",
    "distinct_domains",
    "nxdomain",
    "http_requests",
    "process_starts",
    "distinct_processes",
    "other_events",
)
_DISTINCT = {
    "distinct_users": "users",
    "distinct_dst_ips": "dst_ips",
    "distinct_dst_ports": "dst_ports",
    "distinct_domains": "domains",
    "distinct_processes": "processes",
}

EntityKey = tuple[str, str, int]  # (kind "host" | "ip", name, hour index)


@dataclass(slots=True)
class HourVector:
    counts: dict[str, float] = field(default_factory=lambda: dict.fromkeys(FEATURES, 0.0))
    sets: dict[str, set[str]] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)

    def add_distinct(self, name: str, value: Any) -> None:
        if value is None or value == "":
            return
        bag = self.sets.setdefault(name, set())
        if len(bag) < DISTINCT_CAP:
            bag.add(str(value)[:256])

    def raw(self) -> dict[str, float]:
        out = dict(self.counts)
        for feature, bag in _DISTINCT.items():
            out[feature] = float(len(self.sets.get(bag, ())))
        return out


def transform(raw: dict[str, float]) -> list[float]:
    """log1p of every count (heavy tails), in ``FEATURES`` order."""
    return [math.log1p(max(0.0, raw.get(name, 0.0))) for name in FEATURES]


def entity_of(event: Event) -> tuple[str, str] | None:
    ocsf = event.ocsf if isinstance(event.ocsf, dict) else {}
    fields = event.fields if isinstance(event.fields, dict) else {}
    for value in (
        dig(ocsf, "device.hostname"),
        fields.get("Computer"),
        fields.get("Hostname"),
        fields.get("hostname"),
    ):
        if isinstance(value, str) and value.strip() and value.strip() != "-":
            return "host", value.strip().lower().split(".")[0][:128]
    src = as_ip(lookup(event, ("ocsf:src_endpoint.ip", "id.orig_h", "source.ip")))
    return ("ip", src) if src else None


class VectorTable:
    def __init__(self, max_vectors: int = 100_000, evidence_per_vector: int = 5) -> None:
        self.max_vectors = max(1, max_vectors)
        self.evidence_per_vector = evidence_per_vector
        self.vectors: OrderedDict[EntityKey, HourVector] = OrderedDict()
        self.evicted = 0
        self.skipped = 0

    def add(self, event: Event) -> None:
        entity = entity_of(event)
        time = (
            event.time if isinstance(event.time, int) and not isinstance(event.time, bool) else None
        )
        if entity is None or time is None:
            self.skipped += 1
            return
        key = (entity[0], entity[1], time // HOUR_MS)
        vec = self.vectors.get(key)
        if vec is None:
            vec = HourVector()
            self.vectors[key] = vec
            if len(self.vectors) > self.max_vectors:
                self.vectors.popitem(last=False)
                self.evicted += 1
        else:
            self.vectors.move_to_end(key)
        _count(vec, event)
        if len(vec.evidence) < self.evidence_per_vector:
            vec.evidence.append(Evidence(event.source_path, event.record_id, event.uid, time))


def _count(vec: HourVector, event: Event) -> None:
    c = vec.counts
    c["events"] += 1
    cls = event.class_uid
    if cls == CLASS_AUTHENTICATION or "EventID" in (event.fields or {}):
        auth = auth_event_of(event)
        if auth is not None:
            c["auth_success" if auth.outcome == SUCCESS else "auth_failure"] += (
                auth.count if auth.outcome == FAILURE else 1
            )
            vec.add_distinct("users", auth.user)
            return
    if cls == CLASS_NETWORK_ACTIVITY:
        c["connections"] += 1
        vec.add_distinct("dst_ips", as_ip(lookup(event, ("ocsf:dst_endpoint.ip", "id.resp_h"))))
        vec.add_distinct("dst_ports", lookup(event, ("ocsf:dst_endpoint.port", "id.resp_p")))
        c["bytes_out"] += as_size(lookup(event, ("orig_bytes", "ocsf:traffic.bytes_out"))) or 0
        c["bytes_in"] += as_size(lookup(event, ("resp_bytes", "ocsf:traffic.bytes_in"))) or 0
    elif cls == CLASS_DNS_ACTIVITY:
        c["dns_queries"] += 1
        vec.add_distinct("domains", lookup(event, ("ocsf:query.hostname", "query")))
        rcode = str(lookup(event, ("ocsf:rcode", "rcode_name")) or "").upper()
        c["nxdomain"] += rcode == "NXDOMAIN"
    elif cls == CLASS_HTTP_ACTIVITY:
        c["http_requests"] += 1
        vec.add_distinct("domains", lookup(event, ("ocsf:http_request.url.hostname", "host")))
    elif cls == CLASS_PROCESS_ACTIVITY:
        c["process_starts"] += 1
        vec.add_distinct(
            "processes", lookup(event, ("ocsf:process.file.name", "ocsf:process.name", "Image"))
        )
    else:
        c["other_events"] += 1
