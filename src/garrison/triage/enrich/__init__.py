"""Enrichment: what the organisation knows about a finding's hosts, users and indicators.

``loader`` reads an asset inventory (CSV or YAML), ``intel`` a simple IOC mapping, and
``enricher`` attaches both to every finding under ``explanation["enrichment"]``.
"""

from garrison.triage.enrich.enricher import Enricher
from garrison.triage.enrich.intel import IntelContext, load_intel
from garrison.triage.enrich.inventory import AssetInventory
from garrison.triage.enrich.loader import load_inventory

__all__ = ["AssetInventory", "Enricher", "IntelContext", "load_intel", "load_inventory"]
