"""Errors with a meaning the interfaces can map to exit codes and HTTP statuses.

Exit codes follow docs/contracts.md: 0 success, 1 a check the user asked for failed,
2 bad usage or unusable input.
"""

from __future__ import annotations


class GarrisonError(Exception):
    """Base of every error Garrison raises on purpose."""

    exit_code = 2


class UsageError(GarrisonError):
    """The command was called wrongly (bad option, missing argument)."""


class InputError(GarrisonError):
    """An input cannot be used at all (missing file, unreadable config)."""


class CheckFailed(GarrisonError):
    """A verification the user asked for did not hold (broken audit chain, bad signature)."""

    exit_code = 1


class RecordError(ValueError):
    """One record could not be parsed or normalized; it goes to quarantine with this reason."""
