"""Errors with a meaning the interfaces can map to exit codes and HTTP statuses.

Exit codes follow docs/contracts.md: 0 success, 1 a check the user asked for failed,
2 bad usage or unusable input.
"""

from __future__ import annotations

import os


class GarrisonError(Exception):
    """Base of every error Garrison raises on purpose."""

    exit_code = 2


class UsageError(GarrisonError):
    """The command was called wrongly (bad option, missing argument)."""


class NotFound(UsageError):
    """What a command or request names does not exist (no such incident, approval...);
    the CLI exits 2 as for any usage error, the API answers 404."""


class Conflict(UsageError):
    """The request clashes with the current state (decided already, taken); the API: 409."""


class InputError(GarrisonError):
    """An input cannot be used at all (missing file, unreadable config)."""


class CheckFailed(GarrisonError):
    """A verification the user asked for did not hold (broken audit chain, bad signature)."""

    exit_code = 1


class AccessDenied(GarrisonError):
    """An identity may not do what it asked (a role it lacks, no registered identity).

    The API maps it to 403; the CLI to exit 2 with the message, which names the identity,
    the permission and the roles that grant it."""


class Unauthenticated(AccessDenied):
    """Credentials did not prove an identity (unknown, wrong, expired, revoked, disabled).

    The message is the same for every cause, so a caller learns nothing about which
    names or tokens exist; the API maps it to 401."""


class RecordError(ValueError):
    """One record could not be parsed or normalized; it goes to quarantine with this reason."""


class StorageError(GarrisonError):
    """The machine's storage stopped the work: a full disk, a file system refusing writes,
    a state database that is not one (corrupt, or another kind of file). Raised after
    what was half-written has been removed, so the message is the whole story."""


_DISK_FULL = {28, 27, 122}  # ENOSPC, EFBIG (a file size limit), EDQUOT


def storage_error(exc: OSError, what: str) -> StorageError:
    """A ``StorageError`` for an ``OSError`` met while writing ``what``: disk-full errors
    say so and what to do, others quote the system's reason."""
    if exc.errno in _DISK_FULL:
        reason = os.strerror(exc.errno)
        return StorageError(
            f"disk full while writing {what} ({reason}); nothing half-written was kept: "
            "free some space and run again"
        )
    return StorageError(f"could not write {what}: {exc.strerror or exc}")


class TooManyRequests(GarrisonError):
    """Too many failed attempts from one client or at one name: wait ``retry_after``
    seconds (the API answers 429 with a ``Retry-After`` header)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
