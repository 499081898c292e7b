"""Threat-intelligence detection: feed readers (STIX 2.x, MISP, plain IOC lists), the
indicator index, event matching and the ``intel`` detector.

Triage's enrichment reuses the plain IOC list reader (``ioclist``); detect never imports
from triage.
"""
