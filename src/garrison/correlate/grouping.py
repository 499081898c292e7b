"""Findings -> groups: findings that share an entity within a time window belong together.

Union-find over findings: for each entity, its findings are sorted by time and each joins
the previous one when the gap between them is within ``short_window``. Two findings may be
further apart, up to ``window``, when they share more: both serious (high severity or
above), or the same *pair* of entities (the same user on the same host: one person's day,
not two stories meeting on a busy server). A finding that names many entities of one kind
(the accounts a spray tried) does not link through that kind. Lateral movement also joins
its source and target hosts (``bridges``). Cost is linear in the number of (finding,
entity) pairs plus a sort per entity.

Hubs keep this from gluing everything into one giant incident. An entity is a hub
- when it is a hash or domain seen with more than ``spread_max_hosts`` hosts (the hash of
  ``cmd.exe``, a popular domain: common, so no evidence that two hosts share a story), or
- on a busy day, when it is on more than ``hub_share`` of that day's findings (and on more
  than ``hub_min``), or
- always, when it appears beside more than ``hub_fanout`` distinct other entities that
  themselves recur (a domain controller next to every user; one host beside a hundred
  one-off DGA domains is not a hub, because those domains link nothing else). A finding's
  crowd (more than ``max_per_kind`` of one kind) is not counted as neighbours: the forty
  accounts one spray tried do not make its source a hub.
A hub does not join findings, except findings that name nothing but hubs, which join when
they are within ``hub_window`` of each other (a burst of activity on the domain
controller alone is still one story). Finally a group spanning more than ``max_span`` is
cut into consecutive pieces, so a host that misbehaves every day for a month is read as
several incidents, not one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

from garrison.core.entities import Entity
from garrison.core.findings import Finding
from garrison.correlate.bridges import bridge_lateral
from garrison.triage.config import CorrelationConfig
from garrison.triage.noise import last_seen

HUB_WINDOW_MS = 15 * 60_000
#: Entities of one finding considered for pair links (bounds the pairs per finding).
MAX_PAIR_ENTITIES = 6


class UnionFind:
    """Disjoint sets over 0..n-1 with path halving and union by smaller root."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                self.parent[rb] = ra
            else:
                self.parent[ra] = rb


@dataclass(slots=True)
class Grouping:
    groups: list[list[int]]
    #: entity -> why it is a hub ("fanout 57" or "share on 3 days").
    hubs: dict[Entity, str] = field(default_factory=dict)


def _index_entities(findings: Sequence[Finding]) -> tuple[list[Entity], list[tuple[int, ...]]]:
    ids: dict[Entity, int] = {}
    names: list[Entity] = []
    rows: list[tuple[int, ...]] = []
    for f in findings:
        row: dict[int, None] = {}
        for e in f.entities:
            i = ids.get(e)
            if i is None:
                i = ids[e] = len(names)
                names.append(e)
            row[i] = None
        rows.append(tuple(row))
    return names, rows


def _busy_hubs(
    rows: list[tuple[int, ...]], buckets: list[int], cfg: CorrelationConfig
) -> set[tuple[int, int]]:
    """(entity, day bucket) pairs where the entity is on too large a share of findings."""
    per_bucket: dict[int, int] = defaultdict(int)
    per_pair: dict[tuple[int, int], int] = defaultdict(int)
    for row, b in zip(rows, buckets, strict=True):
        per_bucket[b] += 1
        for e in row:
            per_pair[(e, b)] += 1
    return {
        (e, b)
        for (e, b), c in per_pair.items()
        if c > max(cfg.hub_min, int(per_bucket[b] * cfg.hub_share))
    }


def _fanout_hubs(rows: list[tuple[int, ...]], n_entities: int, cap: int) -> dict[int, int]:
    """Entities beside more than ``cap`` distinct recurring entities (entity -> fanout)."""
    counts = [0] * n_entities
    for row in rows:
        for e in row:
            counts[e] += 1
    neighbours: dict[int, set[int]] = {}
    hubs: dict[int, int] = {}
    for row in rows:
        linked = [e for e in row if counts[e] >= 2]
        if len(linked) < 2:
            continue
        for e in linked:
            if e in hubs:
                continue
            seen = neighbours.setdefault(e, set())
            seen.update(x for x in linked if x != e)
            if len(seen) > cap:
                hubs[e] = len(seen)
                del neighbours[e]
    return hubs


def _spread_hubs(
    rows: list[tuple[int, ...]], names: list[Entity], kinds: tuple[str, ...], max_hosts: int
) -> dict[int, int]:
    """Hashes and domains seen on more than ``max_hosts`` hosts: common, not evidence.

    The hash of ``cmd.exe`` or a popular domain appears beside every host; linking on it
    glues unrelated hosts together. Malware spreading to many hosts is still linked by the
    account and source that spread it.
    """
    hosts: dict[int, set[int]] = {}
    out: dict[int, int] = {}
    for row in rows:
        row_hosts = [e for e in row if names[e].kind == "host"]
        if not row_hosts:
            continue
        for e in row:
            if names[e].kind in kinds and e not in out:
                seen = hosts.setdefault(e, set())
                seen.update(row_hosts)
                if len(seen) > max_hosts:
                    out[e] = len(seen)
                    del hosts[e]
    return out


def _drop_crowds(linking: list[int], kinds: Sequence[str], limit: int) -> list[int]:
    """Leave out the kinds a finding names more than ``limit`` of (the targets of a spray).

    A password spray names the forty accounts it tried; those accounts' own days are not
    part of its story, so it links through its source, not through its targets.
    """
    if len(linking) <= limit:
        return linking
    per_kind: dict[str, int] = defaultdict(int)
    for e in linking:
        per_kind[kinds[e]] += 1
    crowded = {k for k, c in per_kind.items() if c > limit}
    return [e for e in linking if kinds[e] not in crowded] if crowded else linking


def _chain(
    members: list[int],
    times: list[int],
    ends: list[int],
    serious: list[bool],
    uf: UnionFind,
    short_ms: int,
    long_ms: int,
) -> None:
    """Join one entity's findings: any two within ``short_ms``, serious ones within ``long_ms``.

    Low-grade noise is only connected when close in time; findings of high severity are
    worth connecting across a working day (the credential dump in the afternoon and the
    lateral movement next morning are one story, a daily admin script is not).
    """
    members.sort(key=times.__getitem__)
    last_any, reach_any = -1, 0
    last_serious, reach_serious = -1, 0
    for cur in members:
        t = times[cur]
        near = last_any >= 0 and t - reach_any <= short_ms
        if near:
            uf.union(last_any, cur)
        reach_any = max(reach_any, ends[cur]) if near else ends[cur]
        last_any = cur
        if serious[cur]:
            far = last_serious >= 0 and t - reach_serious <= long_ms
            if far:
                uf.union(last_serious, cur)
            reach_serious = max(reach_serious, ends[cur]) if far else ends[cur]
            last_serious = cur


def group_findings(findings: Sequence[Finding], cfg: CorrelationConfig) -> Grouping:
    n = len(findings)
    names, rows = _index_entities(findings)
    times = [f.time for f in findings]
    ends = [last_seen(f) for f in findings]
    serious = [f.severity_id >= cfg.serious_severity for f in findings]
    bucket_ms = max(1, cfg.window_ms)
    buckets = [t // bucket_ms for t in times]
    busy = _busy_hubs(rows, buckets, cfg)
    kinds = [e.kind for e in names]
    # A finding's crowd (the accounts a spray tried) links nothing, so it does not make the
    # finding's other entities look like hubs either: counted as neighbours, forty sprayed
    # accounts named by two findings would make the spraying source a "domain controller".
    rows_for_hubs = [tuple(_drop_crowds(list(r), kinds, cfg.max_per_kind)) for r in rows]
    fanout = _fanout_hubs(rows_for_hubs, len(names), cfg.hub_fanout)
    spread = _spread_hubs(rows, names, cfg.spread_kinds, cfg.spread_max_hosts)
    for e, c in spread.items():
        fanout.setdefault(e, c)
    uf = UnionFind(n)
    by_entity: dict[int, list[int]] = defaultdict(list)
    by_pair: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        linking = [e for e in row if e not in fanout and (e, buckets[i]) not in busy]
        linking = _drop_crowds(linking, kinds, cfg.max_per_kind)
        for e in linking:
            by_entity[e].append(i)
        for pair in combinations(sorted(linking[:MAX_PAIR_ENTITIES]), 2):
            by_pair[pair].append(i)
        if row and not linking:
            for e in row:
                by_entity[~e].append(i)  # hub-only findings link on the hub, tightly
    for e, members in by_entity.items():
        if e < 0:
            _chain(members, times, ends, serious, uf, HUB_WINDOW_MS, HUB_WINDOW_MS)
        else:
            _chain(members, times, ends, serious, uf, cfg.short_window_ms, cfg.window_ms)
    for members in by_pair.values():
        _chain(members, times, ends, serious, uf, cfg.window_ms, cfg.window_ms)
    if cfg.lateral_bridge_ms > 0:
        bridge_lateral(findings, rows, names, uf, cfg.lateral_bridge_ms)
    grouped: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        grouped[uf.find(i)].append(i)
    groups: list[list[int]] = []
    for members in grouped.values():
        groups.extend(_cut_long(members, times, cfg.max_span_ms))
    hubs: dict[Entity, str] = {
        names[e]: f"on {c} hosts" if e in spread else f"fanout {c}" for e, c in fanout.items()
    }
    busy_days: dict[int, int] = defaultdict(int)
    for e, _ in busy:
        busy_days[e] += 1
    for e, days in busy_days.items():
        hubs.setdefault(names[e], f"share on {days} busy window(s)")
    return Grouping(groups, hubs)


def _cut_long(members: list[int], times: list[int], max_span_ms: int) -> list[list[int]]:
    if len(members) < 2 or max_span_ms <= 0:
        return [members]
    members.sort(key=times.__getitem__)
    if times[members[-1]] - times[members[0]] <= max_span_ms:
        return [members]
    out: list[list[int]] = [[members[0]]]
    start = times[members[0]]
    for i in members[1:]:
        if times[i] - start > max_span_ms:
            out.append([])
            start = times[i]
        out[-1].append(i)
    return out
