"""Imports every built-in detector module so each registers itself. One line per module."""

# ruff: noqa: F401
from garrison.detect.sigma import detector as _sigma
