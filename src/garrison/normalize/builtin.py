"""Imports every built-in normalizer module so each registers itself. One line per module."""

# ruff: noqa: F401
from garrison.normalize import csvfile, jsonl, mordor, syslog, windows, zeek
