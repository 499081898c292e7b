"""Risk score of a finding, 0-100, as an exact sum of whole-number parts.

A finding's score is its contribution to risk-based alerting: what the detector said
(severity, confidence, kill-chain stage, repeats) adjusted by what the organisation knows
(asset criticality and exposure, known vulnerabilities, privileged identities, threat
intel), by the analyst's history with the rule (advisory, only ever lowers) and by the
analyst's verdict on this very finding (which always wins: a false or benign true positive
is worth nothing, a true positive at least ``ANALYST_TP_FLOOR``). Every adjustment is a named
part in ``finding.risk_parts``; the parts are whole numbers and ``risk_score`` is their sum,
so ``sum(risk_parts.values()) == risk_score`` holds exactly. Clamping to 0-100 is a part too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from garrison.core.attack import tactic_short
from garrison.core.findings import Finding
from garrison.triage.enrich.enricher import enrichment_of
from garrison.triage.marks import disposition_of, is_suppressed, triage_block

#: Base points per OCSF severity id, so that a confident finding alone lands in the risk
#: band of its severity: Critical >= 80, High >= 60, Medium ~ Moderate, Low ~ Low.
SEVERITY_POINTS = {0: 5, 1: 10, 2: 25, 3: 45, 4: 65, 5: 85}
CRITICALITY_POINTS = {"unknown": 0, "low": 0, "medium": 5, "high": 10, "critical": 20}
EXPOSURE_POINTS = {"internet": 5, "dmz": 3}
PRIVILEGED_POINTS = 10
INTEL_POINTS = 15
LATE_STAGE_POINTS = 5
REPEAT_POINTS_MAX = 5
RULE_HISTORY_POINTS = 15
#: An analyst's true positive lifts the finding to at least this score.
ANALYST_TP_FLOOR = 75
#: Tactics that mean the intrusion is well advanced.
LATE_TACTICS = frozenset(
    {"credential-access", "lateral-movement", "command-and-control", "exfiltration", "impact"}
)


@dataclass(slots=True, frozen=True)
class RuleHistory:
    """Dispositions an analyst gave an analytic's findings so far."""

    total: int
    fp: int

    @property
    def fp_share(self) -> float:
        return self.fp / self.total if self.total else 0.0


@dataclass(slots=True)
class ScoreContext:
    #: analytic uid -> its disposition history (advisory: only lowers, needs ``min_history``).
    rule_history: Mapping[str, RuleHistory] = field(default_factory=dict)
    min_history: int = 5


def _detector_parts(finding: Finding) -> dict[str, int]:
    base = SEVERITY_POINTS.get(finding.severity_id, 5)
    parts = {"severity": base}
    confidence = round(base * (finding.confidence - 100) / 400)
    if confidence:
        parts["confidence"] = confidence
    tactics = {tactic_short(a.tactic_name) for a in finding.attacks if a.tactic_name}
    if tactics & LATE_TACTICS:
        parts["late_kill_chain_stage"] = LATE_STAGE_POINTS
    if finding.count > 1:
        parts["repeats"] = min(REPEAT_POINTS_MAX, round(2 * math.log2(finding.count)))
    return parts


def _context_parts(finding: Finding) -> dict[str, int]:
    parts: dict[str, int] = {}
    block = enrichment_of(finding)
    assets = [a for a in block.get("assets", []) if isinstance(a, dict)]
    crit = str(block.get("criticality", "unknown"))
    if CRITICALITY_POINTS.get(crit, 0):
        name = assets[0].get("name", "") if assets else ""
        parts[f"asset_criticality:{crit}:{name}"] = CRITICALITY_POINTS[crit]
    exposure = max((EXPOSURE_POINTS.get(str(a.get("exposure")), 0) for a in assets), default=0)
    if exposure:
        parts["asset_exposure"] = exposure
    cvss = max(
        (float(v.get("cvss", 0)) for a in assets for v in a.get("vulnerabilities", [])),
        default=0.0,
    )
    if cvss >= 7.0:
        parts["vulnerable_asset"] = 5 if cvss >= 9.0 else 3
    if any(i.get("privileged") for i in block.get("identities", []) if isinstance(i, dict)):
        parts["privileged_identity"] = PRIVILEGED_POINTS
    intel = [i for i in block.get("intel", []) if isinstance(i, dict)]
    if intel:
        best = max(int(i.get("confidence", 0) or 0) for i in intel)
        points = round(INTEL_POINTS * max(0, min(100, best)) / 100)
        if points:
            parts["threat_intel"] = points
    return parts


def score_finding(finding: Finding, ctx: ScoreContext | None = None) -> None:
    """Fill ``risk_parts`` and ``risk_score`` (their sum, 0-100)."""
    ctx = ctx or ScoreContext()
    parts = _detector_parts(finding) | _context_parts(finding)
    history = ctx.rule_history.get(finding.analytic_uid)
    if history and history.total >= ctx.min_history and history.fp:
        penalty = round(RULE_HISTORY_POINTS * history.fp_share)
        if penalty:
            parts["rule_history_fp_share"] = -penalty
    total = sum(parts.values())
    verdict = disposition_of(finding)
    if is_suppressed(finding) and verdict != "tp":
        parts["suppressed"] = -total
    elif verdict == "fp":
        parts["analyst:false_positive"] = -total
    elif verdict == "btp":
        parts["analyst:benign_true_positive"] = -total
    elif verdict == "tp" and total < ANALYST_TP_FLOOR:
        parts["analyst:true_positive"] = ANALYST_TP_FLOOR - total
    total = sum(parts.values())
    if total > 100:
        parts["cap"] = 100 - total
    elif total < 0:
        parts["floor"] = -total
    finding.risk_parts = {k: float(v) for k, v in parts.items()}
    finding.risk_score = int(sum(parts.values()))
    triage_block(finding)


def score_findings(findings: Iterable[Finding], ctx: ScoreContext | None = None) -> None:
    for finding in findings:
        score_finding(finding, ctx)
