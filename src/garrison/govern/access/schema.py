"""The access tables in the home's SQLite state, and the rows the store hands out.

``access_tokens.digest`` is the only trace of a token's secret (see ``tokens``);
``access_users.password_hash`` an argon2id hash or NULL (CLI- and token-only users).
Neither column is ever read into a listed row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from garrison.govern.access.policy import ROLES

DDL = """
CREATE TABLE IF NOT EXISTS access_users (
    name TEXT PRIMARY KEY,
    roles TEXT NOT NULL,
    password_hash TEXT,
    created_at INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS access_tokens (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES access_users(name),
    role TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_used_at INTEGER
);
CREATE INDEX IF NOT EXISTS access_tokens_user ON access_tokens(user);
"""

USER_COLUMNS = "name, roles, password_hash IS NOT NULL, created_at, disabled"
TOKEN_COLUMNS = "id, user, role, created_at, expires_at, revoked_at, last_used_at"  # noqa: S105 - column names


def roles_text(roles: frozenset[str]) -> str:
    """Stored form: comma-separated, in ``ROLES`` order."""
    return ",".join(r for r in ROLES if r in roles)


def roles_of(text: object) -> frozenset[str]:
    """Roles read back; anything that is not a known role (an edited database) is dropped,
    so it can never grant something."""
    return frozenset(r for r in str(text).split(",") if r in ROLES)


@dataclass(frozen=True, slots=True)
class UserInfo:
    name: str
    roles: frozenset[str]
    has_password: bool
    created_at: int
    disabled: bool

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> UserInfo:
        return cls(str(row[0]), roles_of(row[1]), bool(row[2]), int(row[3]), bool(row[4]))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "roles": [r for r in ROLES if r in self.roles],
            "has_password": self.has_password,
            "created_at": self.created_at,
            "disabled": self.disabled,
        }


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as listed: never its secret nor its digest."""

    id: str
    user: str
    role: str
    created_at: int
    expires_at: int
    revoked_at: int | None
    last_used_at: int | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> TokenInfo:
        def opt(value: Any) -> int | None:
            return None if value is None else int(value)

        return cls(
            str(row[0]),
            str(row[1]),
            str(row[2]),
            int(row[3]),
            int(row[4]),
            opt(row[5]),
            opt(row[6]),
        )

    def state(self, now: int) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if now >= self.expires_at else "active"

    def to_json(self, now: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "role": self.role,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
            "last_used_at": self.last_used_at,
            "state": self.state(now),
        }


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token just issued. ``secret`` (the whole ``gar_...`` text) exists only here, is
    shown once by the caller, and is kept out of ``repr``."""

    id: str
    user: str
    role: str
    expires_at: int
    secret: str = field(default="", repr=False)
