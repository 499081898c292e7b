"""Garrison: self-hosted, AI-assisted security operations.

The package is organised by the flow of data:
ingest -> normalize -> store -> detect -> triage -> correlate -> respond,
with ``govern`` and ``measure`` beside them and ``core`` under all of them.
"""

__version__ = "0.1.0"
