"""Triage state carried on a finding, under ``explanation["triage"]``.

A finding's OCSF form has no free slot for workflow state, so triage keeps it beside the
explanation, where it lands in ``findings.jsonl`` (``unmapped.explanation.triage``)::

    {"status": "active" | "suppressed",
     "reason": "allowlist: domain *.windowsupdate.com",   # why it was suppressed
     "disposition": "tp" | "btp" | "fp",                   # the analyst's verdict, if any
     "dedup": {"merged": 12, "evidences_dropped": 3},
     "suppressed_repeats": 40}
"""

from __future__ import annotations

from typing import Any

from garrison.core.findings import Finding

TRIAGE_KEY = "triage"
DISPOSITIONS = ("tp", "btp", "fp")
DISPOSITION_NAMES = {"tp": "true positive", "btp": "benign true positive", "fp": "false positive"}


def triage_block(finding: Finding) -> dict[str, Any]:
    block = finding.explanation.get(TRIAGE_KEY)
    if not isinstance(block, dict):
        block = {"status": "active"}
        finding.explanation[TRIAGE_KEY] = block
    return block


def is_suppressed(finding: Finding) -> bool:
    block = finding.explanation.get(TRIAGE_KEY)
    return isinstance(block, dict) and block.get("status") == "suppressed"


def mark_suppressed(finding: Finding, reason: str) -> None:
    block = triage_block(finding)
    block["status"] = "suppressed"
    block["reason"] = reason


def disposition_of(finding: Finding) -> str:
    block = finding.explanation.get(TRIAGE_KEY)
    value = block.get("disposition", "") if isinstance(block, dict) else ""
    return value if value in DISPOSITIONS else ""


def set_disposition(finding: Finding, disposition: str) -> None:
    if disposition not in DISPOSITIONS:
        raise ValueError(f"disposition must be one of {DISPOSITIONS}, not {disposition!r}")
    triage_block(finding)["disposition"] = disposition
