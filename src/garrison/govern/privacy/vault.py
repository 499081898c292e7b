"""The vault: token -> original value, encrypted with AES-256-GCM, in the home's state.

Each row is sealed under the vault key (derived from the home's privacy key) with a fresh
96-bit nonce and the token as associated data, so a row moved under another token, edited,
or read with another home's key fails to open instead of revealing a wrong name. Whoever
can read ``state.db`` but not ``HOME/keys/privacy.key`` learns only how many distinct
values were pseudonymized.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from garrison.core.errors import GarrisonError
from garrison.core.timeutil import now_ms
from garrison.store.state import StateDB

DDL = """
CREATE TABLE IF NOT EXISTS privacy_vault (
    token TEXT PRIMARY KEY,
    nonce BLOB NOT NULL,
    sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
"""
_NONCE = 12


class VaultError(GarrisonError):
    """A vault entry cannot be opened (another key, or tampered with)."""


class Vault:
    def __init__(self, state: StateDB, vault_key: bytes) -> None:
        self.state = state
        self._aead = AESGCM(vault_key)
        state.ensure(DDL)

    def seal(self, token: str, value: str) -> tuple[bytes, bytes]:
        nonce = os.urandom(_NONCE)
        data = value.encode("utf-8", "surrogatepass")
        return nonce, self._aead.encrypt(nonce, data, token.encode("ascii"))

    def put(self, pairs: Mapping[str, str]) -> int:
        """Store the values of tokens not stored yet (first spelling wins); how many new."""
        if not pairs:
            return 0
        now = now_ms()
        rows = [(t, *self.seal(t, v), now) for t, v in pairs.items()]
        with self.state.transaction() as conn:
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO privacy_vault VALUES (?, ?, ?, ?)", rows)
            return conn.total_changes - before

    def reveal(self, token: str) -> str | None:
        """The original value of ``token``; None when the vault has no such token."""
        rows = self.state.query("SELECT nonce, sealed FROM privacy_vault WHERE token = ?", (token,))
        if not rows:
            return None
        value = self._open(token, rows[0][0], rows[0][1])
        if value is None:
            raise VaultError(
                f"vault entry {token} does not open with this home's key (another key, or "
                "the entry was altered)"
            )
        return value

    def _open(self, token: object, nonce: object, sealed: object) -> str | None:
        try:
            data = self._aead.decrypt(
                cast(bytes, nonce), cast(bytes, sealed), str(token).encode("ascii", "replace")
            )
        except InvalidTag:
            return None
        return data.decode("utf-8", "surrogatepass")

    def values(self) -> list[str]:
        """Every value in the vault (decrypted); a row that does not open is skipped here
        (``reveal`` reports it)."""
        rows = self.state.query("SELECT token, nonce, sealed FROM privacy_vault")
        opened = (self._open(token, nonce, sealed) for token, nonce, sealed in rows)
        return [v for v in opened if v is not None]

    def known(self, tokens: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(tokens))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.state.query(
                f"SELECT token FROM privacy_vault WHERE token IN ({marks})",  # noqa: S608 - marks
                tuple(chunk),
            )
            found.update(str(r[0]) for r in rows)
        return found

    def forget(self, tokens: Iterable[str]) -> int:
        """Remove entries; how many were there."""
        with self.state.transaction() as conn:
            before = conn.total_changes
            conn.executemany("DELETE FROM privacy_vault WHERE token = ?", [(t,) for t in tokens])
            return conn.total_changes - before

    def count(self) -> int:
        return int(self.state.query("SELECT COUNT(*) FROM privacy_vault")[0][0])  # type: ignore[call-overload]
