"""Attach inventory and intel context to findings, under ``explanation["enrichment"]``.

The block lands in ``findings.jsonl`` under ``unmapped.explanation.enrichment``::

    {"criticality": "high",                      # highest of the matched assets
     "assets": [{"type": "host", "name": ..., "criticality": ..., "labels": [...],
                 "exposure": ..., "vulnerabilities": [...], "recent_changes": [...]}],
     "identities": [{"type": "user", "name": ..., "department": ..., "privileged": ...}],
     "intel": [{"indicator": ..., "kind": ..., "confidence": ..., "source": ...}]}

Scoring reads this block, so a score never depends on a lookup the analyst cannot see.
"""

from __future__ import annotations

from typing import Any

from garrison.core.entities import normalize_entity
from garrison.core.findings import Finding
from garrison.triage.enrich.intel import IntelContext
from garrison.triage.enrich.inventory import Asset, AssetInventory

ENRICHMENT_KEY = "enrichment"


def enrichment_of(finding: Finding) -> dict[str, Any]:
    """The finding's enrichment block (empty when it was never enriched)."""
    block = finding.explanation.get(ENRICHMENT_KEY)
    return block if isinstance(block, dict) else {}


def criticality_of(finding: Finding) -> str:
    return str(enrichment_of(finding).get("criticality", "unknown"))


class Enricher:
    """Looks up every entity of a finding in the inventory and the intel mapping."""

    def __init__(
        self,
        inventory: AssetInventory | None = None,
        intel: IntelContext | None = None,
        change_window_ms: int = 7 * 86_400_000,
    ) -> None:
        self.inventory = inventory or AssetInventory()
        self.intel = intel or IntelContext()
        self.change_window_ms = change_window_ms

    def _assets(self, finding: Finding) -> tuple[list[Asset], bool]:
        found: dict[int, Asset] = {}
        ambiguous = False
        for entity in finding.entities:
            if entity.kind == "host":
                matches = self.inventory.host(entity.value)
            elif entity.kind == "ip":
                matches = self.inventory.ip(entity.value)
            else:
                continue
            ambiguous |= len(matches) > 1
            for asset in matches:
                found[id(asset)] = asset
        return sorted(found.values(), key=lambda a: (-a.rank, a.host)), ambiguous

    def _resolve_hosts(self, finding: Finding) -> dict[str, str]:
        """Name the host behind an IP the inventory knows, so correlation can use it.

        A DNS tunnel seen on the network names ``10.10.21.233``; the endpoint alerts name
        ``ws-8833``. With the inventory saying they are one machine, the finding gets the host
        entity too (recorded under ``resolved``), and both land in one incident.
        """
        resolved: dict[str, str] = {}
        for entity in list(finding.entities):
            if entity.kind != "ip":
                continue
            matches = self.inventory.ip(entity.value)
            if len(matches) != 1:
                continue
            host = normalize_entity("host", matches[0].host)
            if host is not None and host not in finding.entities:
                finding.entities.append(host)
                resolved[entity.key()] = host.key()
        return resolved

    def enrich(self, finding: Finding) -> dict[str, Any]:
        resolved = self._resolve_hosts(finding)
        assets, ambiguous = self._assets(finding)
        block: dict[str, Any] = {
            "criticality": assets[0].criticality if assets else "unknown",
        }
        if resolved:
            block["resolved"] = resolved
        if assets:
            lo = finding.time - self.change_window_ms
            block["assets"] = [
                a.to_json([c for c in a.changes if lo <= c.time <= finding.last_time])
                for a in assets
            ]
            if ambiguous:
                block["ambiguous_host"] = True
        identities = [
            ident.to_json()
            for e in finding.entities
            if e.kind == "user" and (ident := self.inventory.user(e.value)) is not None
        ]
        if identities:
            block["identities"] = identities
        intel = [
            ind.to_json()
            for e in finding.entities
            if (ind := self.intel.lookup(e.value)) is not None and ind.kind == e.kind
        ]
        intel += IntelContext.from_finding(finding.explanation)
        if intel:
            block["intel"] = intel
        finding.explanation[ENRICHMENT_KEY] = block
        return block
