"""Pseudonyms: a personal value -> ``pn:`` + 32 hex digits of HMAC-SHA256 under the home's key.

Deterministic, so the same person gets the same token in every event, run and source and
detections keyed on users still work; case-insensitive (the value is case-folded first), so
``ALICE`` and ``alice`` - one Windows account - stay one entity. Without the key a token
reveals nothing about the value, not even its length; with it, anyone can test a guess,
which is why the key is as private as the audit key. Reversal goes through the vault.
"""

from __future__ import annotations

import hashlib
import hmac
import re

PREFIX = "pn:"
_HEX = 32
TOKEN = re.compile(r"pn:[0-9a-f]{32}")


def canonical(value: str) -> str:
    """What is keyed: the case-folded text, lone surrogates kept as escapes."""
    return value.casefold().encode("utf-8", "backslashreplace").decode("utf-8")


def pseudonym(token_key: bytes, value: str) -> str:
    digest = hmac.new(token_key, canonical(value).encode("utf-8"), hashlib.sha256)
    return PREFIX + digest.hexdigest()[:_HEX]


def is_token(text: str) -> bool:
    return TOKEN.fullmatch(text) is not None
