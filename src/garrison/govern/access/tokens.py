"""API token text: ``gar_<id>_<secret>``, its parsing and the digest that is stored.

The id (12 hex digits, 48 random bits) names the token in lists, audit entries and
revocation; the secret (64 hex digits, 256 random bits from ``secrets``) is shown once and
never stored. What is stored is SHA-256 over a domain tag, the id and the secret.

Why a fast hash and not argon2 as for passwords: argon2 exists to make guessing a
*low-entropy* password from its hash expensive. A 256-bit random secret cannot be guessed
from its digest at any hash speed, so a slow hash would buy nothing and would cost tens of
milliseconds and 64 MiB on every API request. The digest is compared with
``hmac.compare_digest`` (constant time), and an unknown id is compared against a dummy
digest so both failures take the same path. The ``gar_`` prefix lets secret scanners
recognise a leaked token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

PREFIX = "gar_"
_ID_HEX = 12
_SECRET_HEX = 64
_FORMAT = re.compile(rf"gar_([0-9a-f]{{{_ID_HEX}}})_([0-9a-f]{{{_SECRET_HEX}}})")
_TAG = b"garrison-api-token-v1\x00"
#: Compared against when the id is unknown, so that path also runs compare_digest.
DUMMY_DIGEST = hashlib.sha256(_TAG + b"no such token").hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh ``(id, full token text)``."""
    token_id = secrets.token_hex(_ID_HEX // 2)
    return token_id, f"{PREFIX}{token_id}_{secrets.token_hex(_SECRET_HEX // 2)}"


def parse(text: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a well-formed token, ``None`` for anything else."""
    if not isinstance(text, str) or len(text) != len(PREFIX) + _ID_HEX + 1 + _SECRET_HEX:
        return None
    match = _FORMAT.fullmatch(text)
    return (match.group(1), match.group(2)) if match else None


def digest(token_id: str, secret: str) -> str:
    """What is stored for a token (hex SHA-256, domain-separated, bound to the id)."""
    return hashlib.sha256(_TAG + f"{token_id}\x00{secret}".encode("ascii")).hexdigest()


def matches(stored: str, token_id: str, secret: str) -> bool:
    """Constant-time comparison of the stored digest with the presented secret's."""
    return hmac.compare_digest(stored.encode("ascii"), digest(token_id, secret).encode("ascii"))
