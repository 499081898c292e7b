"""When an action may run on its own and when a human must approve it first.

* ``read-only`` runs automatically, within its rate limit (over it: refused, recorded).
* ``reversible`` runs automatically only when the playbook does not ask for approval, the
  subject's confidence reaches ``[respond] reversible_min_confidence`` and the action is
  within its rate limit; otherwise it waits for one approval.
* ``disruptive`` and ``destructive`` always wait for an approval with the step's quorum
  (the playbook check refuses such a step without ``approval.required: true``; the policy
  does not rely on that check).

A pure function of its inputs, so the property tests can drive it with anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from garrison.respond.actions import GATED, ActionSpec
from garrison.respond.config import ResponseConfig
from garrison.respond.playbook import Approval, Step
from garrison.respond.subjects import Subject

Verdict = Literal["run", "approval", "refuse"]


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reason: str
    quorum: int = 1
    expires: int | None = None  # seconds
    fallback: Literal["reject", "escalate"] = "reject"


def _rate_text(limit: tuple[int, int]) -> str:
    count, seconds = limit
    return f"{count} per {seconds} s"


def decide(
    spec: ActionSpec, step: Step, subject: Subject, cfg: ResponseConfig, recent: int
) -> Decision:
    """The decision for one step; ``recent`` counts the action's executions inside its
    rate window (all playbooks together)."""
    limit = cfg.rate_of(spec.name, spec.rate_limit)
    over = recent >= limit[0]
    asked = step.approval if step.approval is not None and step.approval.required else None
    if spec.impact in GATED:
        approval = asked or Approval(required=True)
        return _ask(approval, f"{spec.name} is {spec.impact}")
    if asked is not None:
        return _ask(asked, "the playbook asks for approval")
    if spec.impact == "read-only":
        if over:
            return Decision("refuse", f"rate limit reached ({_rate_text(limit)})")
        return Decision("run", "read-only")
    if over:
        return _ask(Approval(required=True), f"rate limit reached ({_rate_text(limit)})")
    floor = cfg.reversible_min_confidence
    if subject.confidence < floor:
        return _ask(Approval(required=True), f"confidence {subject.confidence} below {floor}")
    return Decision("run", f"reversible, confidence {subject.confidence} >= {floor}")


def _ask(approval: Approval, reason: str) -> Decision:
    return Decision(
        "approval",
        reason,
        quorum=approval.quorum,
        expires=approval.expires,
        fallback=approval.fallback,
    )
