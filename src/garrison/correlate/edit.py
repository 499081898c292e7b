"""Merge and split incidents by analyst decision, rebuilt from their findings.

Both operations rebuild the incident(s) from the member findings, so the score, its parts,
the story and the enrichment (assets, identities, intel, which live on the findings) are
recomputed and nothing is lost: a split piece keeps the enrichment of its own findings, a
merged incident the union. The surviving incident keeps its uid, status and verdict; a
split-off piece gets a fresh uid from its findings and its source, and starts as ``new``.
"""

from __future__ import annotations

from collections.abc import Sequence

from garrison.core.errors import UsageError
from garrison.core.findings import Finding
from garrison.core.incidents import Incident, incident_uid
from garrison.correlate.incident import build_incident
from garrison.triage.config import RiskConfig
from garrison.triage.marks import is_suppressed


def _rebuild(
    template: Incident | None, members: Sequence[Finding], cfg: RiskConfig, uid: str
) -> Incident:
    live = [f for f in members if not is_suppressed(f) and f.risk_score > 0] or list(members)
    inc = build_incident(live, cfg, uid=uid)
    if template is not None:
        inc.status, inc.verdict, inc.similar = template.status, template.verdict, template.similar
    inc.explanation["analyst_edited"] = True
    return inc


def merge(
    target: Incident, others: Sequence[Incident], findings: Sequence[Finding], cfg: RiskConfig
) -> Incident:
    """``target`` grown by the findings of ``others`` (``findings`` holds all members)."""
    wanted = set(target.finding_uids).union(*(o.finding_uids for o in others))
    members = [f for f in findings if f.uid in wanted]
    if not members:
        raise UsageError("none of the incidents' findings are stored; cannot merge")
    merged = _rebuild(target, members, cfg, target.uid)
    merged.explanation["merged_from"] = [o.uid for o in others]
    return merged


def split(
    incident: Incident, findings: Sequence[Finding], take: Sequence[str], cfg: RiskConfig
) -> tuple[Incident, Incident]:
    """(what stays, the new incident made of the findings in ``take``)."""
    take_set = set(take)
    unknown = take_set - set(incident.finding_uids)
    if unknown:
        raise UsageError(f"not findings of {incident.uid}: {', '.join(sorted(unknown))}")
    members = [f for f in findings if f.uid in set(incident.finding_uids)]
    moved = [f for f in members if f.uid in take_set]
    stays = [f for f in members if f.uid not in take_set]
    if not moved or not stays:
        raise UsageError("a split needs findings on both sides")
    kept = _rebuild(incident, stays, cfg, incident.uid)
    # Salted with the source: the moved findings may be exactly those the survivor's own
    # uid was once derived from.
    new = _rebuild(
        None, moved, cfg, incident_uid([*(f.uid for f in moved), f"split:{incident.uid}"])
    )
    new.explanation["split_from"] = incident.uid
    return kept, new
