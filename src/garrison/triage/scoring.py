"""Risk score of a finding, 0-100, as an explainable sum of parts.

The score is the severity's base weighted by the detector's confidence, with a bonus for
each ATT&CK tactic late in the kill chain (an attacker already inside is worse than one
knocking). ``risk_parts`` holds each part, and the parts add up to ``risk_score``.
"""

from __future__ import annotations

from collections.abc import Iterable

from garrison.core.attack import tactic_rank, tactic_short
from garrison.core.findings import Finding

#: Base risk per OCSF severity id.
SEVERITY_BASE = {0: 10.0, 1: 10.0, 2: 30.0, 3: 50.0, 4: 70.0, 5: 90.0}
#: Tactics that mean the intrusion is well advanced.
LATE_TACTICS = frozenset(
    {"credential-access", "lateral-movement", "command-and-control", "exfiltration", "impact"}
)
LATE_TACTIC_BONUS = 10.0


def score_finding(finding: Finding) -> None:
    base = SEVERITY_BASE.get(finding.severity_id, 10.0)
    confidence = finding.confidence / 100.0
    parts: dict[str, float] = {
        "severity": float(round(base * 0.5)),
        "confidence": float(round(base * 0.5 * confidence)),
    }
    tactics = {tactic_short(a.tactic_name) for a in finding.attacks if a.tactic_name}
    if tactics & LATE_TACTICS:
        parts["late_kill_chain_stage"] = LATE_TACTIC_BONUS
    total = sum(parts.values())
    if total > 100:
        parts["cap"] = 100.0 - total
    finding.risk_parts = parts
    finding.risk_score = round(sum(parts.values()))


def score_findings(findings: Iterable[Finding]) -> None:
    for finding in findings:
        score_finding(finding)


def earliest_tactic_rank(finding: Finding) -> int:
    ranks = [tactic_rank(a.tactic_name) for a in finding.attacks if a.tactic_name]
    return min(ranks) if ranks else 99
