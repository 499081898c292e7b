"""Joins that no shared entity makes: lateral movement from one host to another.

A PsExec run on host A and the service it installs on host B a second later name no
common entity (the service runs as SYSTEM; the command line's ``\\\\B`` is not an entity),
yet they are one step of one story. A finding that moves laterally (ATT&CK tactic
lateral-movement, or a remote-execution technique) on host A is joined to the first few
findings on other hosts that start within ``bridge_ms`` after it, when the target finding
names no user (a service running as SYSTEM) or one of the source's users. The window is
short, the fan-out capped and other people's activity excluded, so a busy network cannot
turn a coincidence into a giant incident.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Protocol

from garrison.core.attack import tactic_short
from garrison.core.entities import Entity
from garrison.core.findings import Finding

#: Remote execution / lateral movement techniques (parents match their sub-techniques).
REMOTE_TECHNIQUES = ("T1021", "T1047", "T1569.002", "T1570", "T1563", "T1072")
MAX_TARGETS = 5


class _Union(Protocol):
    def union(self, a: int, b: int) -> None: ...


def moves_laterally(f: Finding) -> bool:
    for a in f.attacks:
        if a.tactic_name and tactic_short(a.tactic_name) == "lateral-movement":
            return True
        if a.technique_uid and a.technique_uid.upper().startswith(REMOTE_TECHNIQUES):
            return True
    return False


def bridge_lateral(
    findings: Sequence[Finding],
    rows: list[tuple[int, ...]],
    names: list[Entity],
    uf: _Union,
    bridge_ms: int,
) -> int:
    """Union lateral-movement findings with the next findings on other hosts; returns joins."""
    sources = [i for i, f in enumerate(findings) if moves_laterally(f)]
    if not sources:
        return 0
    is_host = [e.kind == "host" for e in names]
    is_user = [e.kind == "user" for e in names]
    hosts_cache: dict[int, frozenset[int]] = {}

    def hosts(i: int) -> frozenset[int]:
        found = hosts_cache.get(i)
        if found is None:
            found = hosts_cache[i] = frozenset(e for e in rows[i] if is_host[e])
        return found

    def users(i: int) -> frozenset[int]:
        return frozenset(e for e in rows[i] if is_user[e])

    order = sorted(range(len(findings)), key=lambda i: findings[i].time)
    times = [findings[i].time for i in order]
    joins = 0
    for i in sources:
        f = findings[i]
        if not hosts(i):
            continue
        start = bisect.bisect_right(times, f.time - 1)
        stop = bisect.bisect_right(times, f.time + bridge_ms)
        targets = 0
        for j in order[start:stop]:
            if j == i or not hosts(j) or hosts(j) & hosts(i):
                continue
            if users(j) and not users(j) & users(i):
                continue  # someone else's activity on the target, not this hop
            uf.union(i, j)
            joins += 1
            targets += 1
            if targets >= MAX_TARGETS:
                break
    return joins
