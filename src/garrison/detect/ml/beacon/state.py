"""Bounded per-pair state for streaming beacon detection.

``observe`` only appends to compact arrays; scoring waits for ``finish``. Memory is bounded
three ways: each pair keeps at most ``2 * max_per_pair`` timestamps (trimmed back to the
most recent ``max_per_pair``, with first-seen time and total count kept exactly), the table
holds at most ``max_pairs`` pairs, and all pairs together at most ``max_timestamps``
timestamps. When a bound is hit the least recently updated pair is evicted (LRU): a pair
that has gone quiet is the cheapest to lose, a live beacon keeps being refreshed.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

PairKey = tuple[str, str, str]  # (kind "ip" | "host", source ip, destination ip or host)
#: (source path, record id, event uid, the connection): turned into an ``Evidence`` only
#: for pairs that are reported, so observing stays cheap.
EvidenceRef = tuple[str, int, str, Any]


@dataclass(slots=True)
class PairState:
    times: array = field(default_factory=lambda: array("q"))
    sizes: array = field(default_factory=lambda: array("d"))
    count: int = 0
    first: int = 0
    last: int = 0
    bytes_total: float = 0.0
    ports: set[int] = field(default_factory=set)
    services: set[str] = field(default_factory=set)
    src_names: set[str] = field(default_factory=set)
    #: Destination IPs behind a host-name pair (for the analyst).
    dst_ips: set[str] = field(default_factory=set)
    first_evidence: list[EvidenceRef] = field(default_factory=list)
    last_evidence: deque[EvidenceRef] = field(default_factory=lambda: deque(maxlen=2))

    def evidences(self) -> list[EvidenceRef]:
        """The first three and the last two events, each once."""
        seen = {(e[0], e[1]) for e in self.first_evidence}
        tail = [e for e in self.last_evidence if (e[0], e[1]) not in seen]
        return [*self.first_evidence, *tail]


def _add_small(bag: set, value: object, cap: int) -> None:
    if value is not None and value != "" and len(bag) < cap:
        bag.add(value)


class PairTable:
    def __init__(
        self, max_pairs: int = 200_000, max_per_pair: int = 1000, max_timestamps: int = 5_000_000
    ) -> None:
        self.max_pairs = max(1, max_pairs)
        self.max_per_pair = max(8, max_per_pair)
        self.max_timestamps = max(self.max_per_pair, max_timestamps)
        self.pairs: OrderedDict[PairKey, PairState] = OrderedDict()
        self.stored = 0
        self.evicted = 0
        self.trimmed = 0

    def add(
        self,
        key: PairKey,
        time: int,
        size: float | None,
        port: int | None,
        service: str,
        src_name: str | None,
        dst_ip: str | None,
        evidence: EvidenceRef,
    ) -> None:
        state = self.pairs.get(key)
        if state is None:
            state = PairState(first=time, last=time)
            self.pairs[key] = state
        else:
            self.pairs.move_to_end(key)
        state.times.append(time)
        self.stored += 1
        if size is not None:
            state.sizes.append(size)
            state.bytes_total += size
        state.count += 1
        state.first = min(state.first, time)
        state.last = max(state.last, time)
        _add_small(state.ports, port, 16)
        _add_small(state.services, service, 8)
        _add_small(state.src_names, src_name, 4)
        _add_small(state.dst_ips, dst_ip, 16)
        if len(state.first_evidence) < 3:
            state.first_evidence.append(evidence)
        else:
            state.last_evidence.append(evidence)
        if len(state.times) >= 2 * self.max_per_pair:
            self._trim(state)
        self._enforce_bounds()

    def _trim(self, state: PairState) -> None:
        drop = len(state.times) - self.max_per_pair
        del state.times[:drop]
        if len(state.sizes) > self.max_per_pair:
            del state.sizes[: len(state.sizes) - self.max_per_pair]
        self.stored -= drop
        self.trimmed += 1

    def _enforce_bounds(self) -> None:
        while len(self.pairs) > self.max_pairs or (
            self.stored > self.max_timestamps and len(self.pairs) > 1
        ):
            _, old = self.pairs.popitem(last=False)
            self.stored -= len(old.times)
            self.evicted += 1

    def __len__(self) -> int:
        return len(self.pairs)
