"""Imports every built-in source module so each registers itself. One line per module."""

# ruff: noqa: F401
from garrison.ingest import csvfile, evtx, jsonl, mordor, syslog, zeek
