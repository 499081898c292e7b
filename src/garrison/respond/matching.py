"""Whether a playbook's trigger holds for a subject: every condition it gives must hold.

Analytic and technique conditions match by prefix on a dot boundary, so ``ml`` names every
ML detector and ``T1110`` every brute-force sub-technique.
"""

from __future__ import annotations

from garrison.respond.playbook import Trigger
from garrison.respond.subjects import Subject


def _analytic_matches(wanted: str, analytic: str) -> bool:
    """``ml`` matches ``ml.dga``; ``ml.dga`` matches ``ml.dga`` and ``ml.dga.nxdomain_burst``."""
    return analytic == wanted or analytic.startswith(wanted + ".")


def _technique_matches(wanted: str, technique: str) -> bool:
    return technique == wanted or technique.startswith(wanted + ".")


def matches(trigger: Trigger, subject: Subject) -> bool:
    """Whether every condition the trigger gives holds for the subject."""
    checks = (
        trigger.on == subject.kind,
        not trigger.analytic
        or any(_analytic_matches(w, a) for w in trigger.analytic for a in subject.analytics),
        not trigger.technique
        or any(_technique_matches(w, t) for w in trigger.technique for t in subject.techniques),
        trigger.min_risk is None or subject.risk >= trigger.min_risk,
        not trigger.severity or any(s in trigger.severity for s in subject.severities),
        not trigger.entity_type or any(e.kind in trigger.entity_type for e in subject.entities),
        not trigger.asset_criticality or subject.criticality in trigger.asset_criticality,
        trigger.intel is None or trigger.intel == subject.intel_listed,
    )
    return all(checks)
