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
from typing import Any

from garrison.core.events import Event
from garrison.core.findings import Finding
from garrison.core.timeutil import now_ms
from garrison.detect.base import Detector, DetectorContext
from garrison.detect.ml.egress.baseline import DAY_MS, DayFigures, DestinationRecord, EgressBaseline
from garrison.detect.ml.egress.config import EgressConfig
from garrison.detect.ml.egress.report import (
    Bucket,
    BucketKey,
    Candidate,
    Reference,
    build_finding,
)
from garrison.detect.ml.egress.transfers import Transfer, transfer_of
from garrison.detect.options import options_of
from garrison.store.state import StateDB

__all__ = ["EgressConfig", "EgressDetector", "build"]


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
        findings = [
            build_finding(c, self.config, self.id, self.name)
            for c in fired[: self.config.max_findings]
        ]
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

    def stats(self) -> dict[str, Any]:
        return {
            **self.counts,
            "buckets": len(self.buckets),
            "destinations": len(self.destinations),
            "prune_floor_bytes": self.prune_floor,
            "batches_learnt": len(self.batches_new),
        }


def _merged(stored: DestinationRecord | None, run: DestinationRecord | None) -> DestinationRecord:
    if stored is None and run is None:
        return DestinationRecord(0, 0)
    if stored is None or run is None:
        only = stored or run
        assert only is not None  # noqa: S101 - narrows the type: the branch has one of the two
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
    return EgressDetector(options_of(ctx, EgressConfig), ctx.state)
