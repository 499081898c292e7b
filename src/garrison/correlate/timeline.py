"""An incident's story: its findings along the ATT&CK kill chain and in time.

Two views of the same findings:

- ``timeline``: one entry per finding in time order (ties broken by kill-chain stage), what
  an analyst scrolls through;
- ``stages``: the kill-chain stages present (``garrison.core.attack.KILL_CHAIN`` order), each
  with its first and last time, techniques and findings, what an analyst reads first.

``story`` turns the stages into a few sentences for the incident's description.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from garrison.core.attack import KILL_CHAIN, tactic_name, tactic_rank, tactic_short
from garrison.core.findings import Finding
from garrison.core.timeutil import iso
from garrison.triage.enrich.enricher import criticality_of
from garrison.triage.noise import last_seen

UNMAPPED = "no ATT&CK mapping"


def finding_stage(f: Finding) -> int:
    """Earliest kill-chain rank among the finding's tactics (unmapped sorts last)."""
    ranks = [tactic_rank(a.tactic_name) for a in f.attacks if a.tactic_name]
    return min(ranks) if ranks else len(KILL_CHAIN)


def timeline(members: Sequence[Finding], contribution: dict[str, float]) -> list[dict[str, Any]]:
    ordered = sorted(members, key=lambda f: (f.time, finding_stage(f), f.uid))
    return [
        {
            "time": f.time,
            "last_time": last_seen(f),
            "finding_uid": f.uid,
            "title": f.title,
            "analytic_uid": f.analytic_uid,
            "tactics": sorted({a.tactic_name for a in f.attacks if a.tactic_name}, key=tactic_rank),
            "techniques": sorted({a.technique_uid for a in f.attacks if a.technique_uid}),
            "entities": [e.key() for e in f.entities[:8]],
            "risk_score": f.risk_score,
            "contribution": round(contribution.get(f.uid, 0.0), 1),
            "count": f.count,
            "criticality": criticality_of(f),
        }
        for f in ordered
    ]


def stages(members: Sequence[Finding]) -> list[dict[str, Any]]:
    buckets: dict[str, list[Finding]] = {}
    for f in members:
        tactics = {tactic_short(a.tactic_name) for a in f.attacks if a.tactic_name}
        for t in tactics or {UNMAPPED}:
            buckets.setdefault(t, []).append(f)
    out: list[dict[str, Any]] = []
    for short in sorted(buckets, key=lambda t: tactic_rank(t) if t != UNMAPPED else 99):
        fs = sorted(buckets[short], key=lambda f: f.time)
        techniques = sorted(
            {
                f"{a.technique_uid} {a.technique_name}".strip()
                for f in fs
                for a in f.attacks
                if a.technique_uid and (not a.tactic_name or tactic_short(a.tactic_name) == short)
            }
        )
        out.append(
            {
                "tactic": tactic_name(short) if short != UNMAPPED else UNMAPPED,
                "first_time": fs[0].time,
                "last_time": max(last_seen(f) for f in fs),
                "techniques": techniques,
                "findings": [f.uid for f in fs],
            }
        )
    return out


def story(stage_list: Sequence[dict[str, Any]], who: str) -> str:
    """A few sentences: where it started, what followed, along the kill chain."""
    if not stage_list:
        return ""
    parts: list[str] = []
    for i, st in enumerate(stage_list[:6]):
        techs = ", ".join(st["techniques"][:3])
        detail = f" ({techs})" if techs else ""
        lead = "Starts with" if i == 0 else "then"
        parts.append(f"{lead} {st['tactic']}{detail} at {iso(int(st['first_time']))[:19]}Z")
    more = len(stage_list) - 6
    tail = f"; and {more} more stage(s)" if more > 0 else ""
    return f"On {who}: " + "; ".join(parts) + tail + "."
