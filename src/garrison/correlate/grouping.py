"""Findings -> incidents: findings that share an entity within a time window belong together.

Union-find over findings: for each entity, findings are sorted by time and each is joined
to the previous one when the gap is within ``window_ms``. Entities that appear on a large
share of all findings (a domain controller, a shared service account) are "hubs" and do not
join on their own, or one noisy host would swallow every incident.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from garrison.core.attack import tactic_rank, tactic_short
from garrison.core.entities import Entity
from garrison.core.findings import Finding
from garrison.core.incidents import Incident

DAY_MS = 86_400_000


@dataclass(slots=True)
class CorrelationConfig:
    window_ms: int = DAY_MS
    #: An entity on more than this share of findings (and at least ``hub_min``) is a hub.
    hub_share: float = 0.5
    hub_min: int = 50
    breadth_bonus_per_tactic: float = 5.0


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _hubs(findings: Sequence[Finding], cfg: CorrelationConfig) -> set[Entity]:
    counts: dict[Entity, int] = defaultdict(int)
    for f in findings:
        for e in set(f.entities):
            counts[e] += 1
    limit = max(cfg.hub_min, int(len(findings) * cfg.hub_share))
    return {e for e, c in counts.items() if c > limit}


def group_findings(findings: Sequence[Finding], cfg: CorrelationConfig) -> list[list[int]]:
    uf = _UnionFind(len(findings))
    hubs = _hubs(findings, cfg)
    by_entity: dict[Entity, list[int]] = defaultdict(list)
    for i, f in enumerate(findings):
        for e in f.entities:
            if e not in hubs:
                by_entity[e].append(i)
    for members in by_entity.values():
        members.sort(key=lambda i: findings[i].time)
        for prev, cur in pairwise(members):
            if findings[cur].time - findings[prev].last_time <= cfg.window_ms:
                uf.union(prev, cur)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(findings)):
        groups[uf.find(i)].append(i)
    return list(groups.values())


def build_incident(members: list[Finding], cfg: CorrelationConfig) -> Incident:
    def chain_key(f: Finding) -> tuple[int, int]:
        ranks = [tactic_rank(a.tactic_name) for a in f.attacks if a.tactic_name]
        return (f.time, min(ranks) if ranks else 99)

    ordered = sorted(members, key=chain_key)
    tactics = sorted(
        {a.tactic_name for f in members for a in f.attacks if a.tactic_name}, key=tactic_rank
    )
    techniques = sorted({a.technique_uid for f in members for a in f.attacks if a.technique_uid})
    entities = sorted({e for f in members for e in f.entities})
    top = max(members, key=lambda f: f.risk_score)
    parts: dict[str, float] = {f"top_finding:{top.analytic_name}": float(top.risk_score)}
    breadth = cfg.breadth_bonus_per_tactic * max(0, len(tactics) - 1)
    if breadth:
        parts["kill_chain_breadth"] = min(breadth, 100.0 - top.risk_score)
    score = round(sum(parts.values()))
    stages = " → ".join(tactic_short(t) for t in tactics[:4]) or "no ATT&CK mapping"
    who = ", ".join(e.value for e in entities[:3]) or "unattributed"
    title = (
        f"{top.title} (+{len(members) - 1} related) on {who}: {stages}"
        if len(members) > 1
        else f"{top.title} on {who}"
    )
    timeline = [
        {
            "time": f.time,
            "finding_uid": f.uid,
            "title": f.title,
            "tactics": [a.tactic_name for a in f.attacks if a.tactic_name],
            "risk_score": f.risk_score,
        }
        for f in ordered
    ]
    return Incident(
        title=title,
        finding_uids=[f.uid for f in ordered],
        first_time=min(f.time for f in members),
        last_time=max(f.last_time for f in members),
        risk_score=score,
        severity_id=max(f.severity_id for f in members),
        entities=entities,
        tactics=tactics,
        techniques=techniques,
        timeline=timeline,
        risk_parts=parts,
    )


def correlate(findings: Sequence[Finding], cfg: CorrelationConfig | None = None) -> list[Incident]:
    """Incidents over the findings, highest risk first."""
    cfg = cfg or CorrelationConfig()
    incidents = [
        build_incident([findings[i] for i in group], cfg) for group in group_findings(findings, cfg)
    ]
    incidents.sort(key=lambda inc: (-inc.risk_score, inc.first_time))
    return incidents
