"""The per-home pseudonymization key, ``HOME/keys/privacy.key`` (32 random bytes, 0600).

One secret, two uses kept apart by HKDF: the HMAC key that turns a personal value into its
token, and the AES-GCM key that encrypts the vault (token -> original value). Whoever
holds the file can compute the token of any guessed value and decrypt the vault, so it is
as private as the audit key: a file group or others can read, or another account owns,
is refused; it is never printed or logged. Losing it makes the vault unreadable and makes
new tokens differ from old ones (correlation with earlier data breaks): back it up with
the rest of ``HOME/keys``.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from garrison.core.errors import GarrisonError

KEY_FILE = "privacy.key"
KEY_BYTES = 32


class PrivacyKeyError(GarrisonError):
    """The pseudonymization key is missing or cannot be used safely."""


@dataclass(frozen=True, slots=True)
class PrivacyKeys:
    """The two keys derived from the home's secret (never shown by ``repr``)."""

    token_key: bytes
    vault_key: bytes

    @classmethod
    def derive(cls, secret: bytes) -> PrivacyKeys:
        return cls(_hkdf(secret, b"garrison-privacy-token-v1"), _hkdf(secret, b"garrison-vault-v1"))

    def __repr__(self) -> str:
        return "PrivacyKeys(<hidden>)"


def _hkdf(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def _refuse_if_loose(path: Path) -> None:
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        raise PrivacyKeyError(f"privacy key {path} is not a regular file")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise PrivacyKeyError(f"privacy key {path} belongs to another account; refusing it")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise PrivacyKeyError(
            f"privacy key {path} has permissions {mode:04o}: others may have read it, so "
            f"pseudonyms can be reversed by them; `chmod 600 {path}` only if nobody has"
        )


def _create(path: Path) -> bytes | None:
    """Write a new secret exclusively; None when another process made one first."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    secret = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret)
        handle.flush()
        os.fsync(handle.fileno())
    return secret


def load_keys(keys_dir: Path, create: bool = False) -> PrivacyKeys | None:
    """The home's keys; created when missing and ``create`` is set, else None."""
    path = Path(keys_dir) / KEY_FILE
    if not path.exists():
        if not create:
            return None
        made = _create(path)
        if made is not None:
            return PrivacyKeys.derive(made)
    _refuse_if_loose(path)
    secret = path.read_bytes()
    if len(secret) != KEY_BYTES:
        raise PrivacyKeyError(f"privacy key {path} has {len(secret)} bytes, not {KEY_BYTES}")
    return PrivacyKeys.derive(secret)


def require_keys(keys_dir: Path) -> PrivacyKeys:
    """The keys, or a ``PrivacyKeyError`` saying there are none (nothing was pseudonymized)."""
    keys = load_keys(keys_dir)
    if keys is None:
        raise PrivacyKeyError(
            f"no privacy key in {keys_dir}: this home has pseudonymized nothing yet"
        )
    return keys
