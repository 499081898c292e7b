"""Session passwords: argon2id hashes (argon2-cffi), checked in the same time for every
kind of failure so a login form cannot tell which user names exist.

The default parameters are argon2-cffi's (RFC 9106's low-memory profile: 3 passes over
64 MiB, 4 lanes). A stored hash made with other parameters is re-hashed on the next
successful login, so raising the cost later upgrades every account that signs in.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from garrison.core.errors import UsageError

MIN_LENGTH = 12
#: Past this a "password" is a file pasted by mistake (or an attempt to burn CPU).
MAX_LENGTH = 1024


def check_password(password: str) -> str:
    """``password`` if acceptable, else ``UsageError`` (which never quotes it)."""
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise UsageError(f"a password needs {MIN_LENGTH} to {MAX_LENGTH} characters")
    if "\x00" in password or password != password.strip():
        raise UsageError("a password may not hold NUL or start or end with white space")
    return password


class Passwords:
    """Hash and verify; ``hasher`` may be cheaper in tests (its parameters are the cost)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher if hasher is not None else PasswordHasher()

    def hash(self, password: str) -> str:
        return self.hasher.hash(check_password(password))

    @functools.cached_property
    def _dummy(self) -> str:
        """A hash of nothing anyone knows, with the same parameters as real ones."""
        return self.hasher.hash("not-a-password-\x01-never-matches")

    def verify(self, stored: str | None, password: str) -> tuple[bool, str | None]:
        """``(ok, new_hash)``: ``new_hash`` is set when a correct password's hash used old
        parameters. ``stored=None`` (unknown user, no password) verifies against a dummy
        hash so it costs the same as a wrong password."""
        target = stored if stored is not None else self._dummy
        try:
            self.hasher.verify(target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False, None
        if stored is None:  # pragma: no cover - nobody knows the dummy's password
            return False, None
        if self.hasher.check_needs_rehash(stored):
            return True, self.hasher.hash(password)
        return True, None
