"""Imports every built-in detector module so each registers itself. One line per module."""

# ruff: noqa: F401
