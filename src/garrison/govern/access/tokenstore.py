"""API tokens: issue (the secret shown once), list (never a secret), revoke, authenticate.

A token is scoped to one role its user holds; it authenticates as that user with that role
only, and stops working the moment it expires, is revoked, its user is disabled or the user
no longer holds the role. Every one of those failures is the same ``Unauthenticated`` with
the same message, after the same constant-time comparison (``tokens``), so a caller cannot
tell an unknown token from a revoked one. ``last_used_at`` is written at most once a minute
per token, so a busy integration does not turn every request into a database write.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from garrison.core.errors import AccessDenied, NotFound, Unauthenticated, UsageError
from garrison.govern.access import tokens
from garrison.govern.access.base import StoreBase, acting
from garrison.govern.access.names import MAX_TTL_MS, check_roles, parse_ttl
from garrison.govern.access.policy import Principal, allowed
from garrison.govern.access.schema import TOKEN_COLUMNS, IssuedToken, TokenInfo, roles_of
from garrison.govern.audit import audited

#: The one message for every failed token authentication.
BAD_TOKEN = "invalid, expired or revoked token"  # noqa: S105 - a message
#: ``last_used_at`` is refreshed when older than this (milliseconds).
LAST_USED_GRANULARITY = 60_000


def _ms(value: object) -> int:
    return int(cast(int, value))


def ttl_ms(ttl: timedelta | str) -> int:
    """A token lifetime in milliseconds: ``"30d"`` style text or a ``timedelta``."""
    ms = parse_ttl(ttl) if isinstance(ttl, str) else int(ttl.total_seconds() * 1000)
    if not 0 < ms <= MAX_TTL_MS:
        raise UsageError("a token lives more than 0 and at most 366 days")
    return ms


class TokenStore(StoreBase):
    def _may_act_for(self, user: str, role: str | None = None) -> Principal:
        """The actor, if it may act on ``user``'s tokens: as that user (holding ``role``
        itself, so a token cannot mint a wider one) or as a ``users.manage`` holder."""
        actor = self._require_identity()
        if actor.name == user and (role is None or role in actor.roles):
            return actor
        return self._require("users.manage")

    def _require_identity(self) -> Principal:
        if self.actor is None:
            raise AccessDenied("no authenticated identity may manage tokens")
        return self.actor

    @audited(
        "tokens.issue",
        actor=acting,
        target=lambda self, user, *a, **k: user,
        details=lambda self, user, role, ttl="30d": {"role": role, "ttl": str(ttl)},
        result=lambda t, *a, **k: {"id": t.id, "expires_at": t.expires_at},
    )
    def issue_token(self, user: str, role: str, ttl: timedelta | str = "30d") -> IssuedToken:
        """A new token for ``user`` scoped to ``role`` (which the user must hold). The
        returned ``secret`` is the only copy: only its digest is stored."""
        (role,) = check_roles([role])
        lifetime = ttl_ms(ttl)
        self._may_act_for(user, role)
        target = self._existing(user)
        if target.disabled:
            raise UsageError(f"user {user!r} is disabled")
        if role not in target.roles:
            raise UsageError(f"user {user!r} does not hold role {role}")
        token_id, text = tokens.new_token()
        parsed = tokens.parse(text)
        assert parsed is not None  # noqa: S101 - narrows the type: new_token's text parses
        now = self.clock()
        self.state.execute(
            "INSERT INTO access_tokens (id, user, role, digest, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (token_id, user, role, tokens.digest(*parsed), now, now + lifetime),
        )
        return IssuedToken(token_id, user, role, now + lifetime, text)

    def list_tokens(self, user: str | None = None) -> list[TokenInfo]:
        """Tokens (all with ``users.manage``, else only one's own), newest first."""
        actor = self._require_identity()
        if not allowed(actor, "users.manage"):
            if user not in (None, actor.name):
                self._require("users.manage")
            user = actor.name
        where, params = ("WHERE user = ?", (user,)) if user is not None else ("", ())
        rows = self.state.query(
            f"SELECT {TOKEN_COLUMNS} FROM access_tokens {where} ORDER BY created_at DESC, id",  # noqa: S608 - column list and clause are module constants; values are bound
            params,
        )
        return [TokenInfo.from_row(r) for r in rows]

    @audited("tokens.revoke", actor=acting, target=lambda self, token_id, *a, **k: token_id)
    def revoke_token(self, token_id: str) -> TokenInfo:
        """Revoke a token (one's own, or any with ``users.manage``); revoking twice is
        allowed and keeps the first time."""
        rows = self.state.query(
            f"SELECT {TOKEN_COLUMNS} FROM access_tokens WHERE id = ?",  # noqa: S608 - column list and clause are module constants; values are bound
            (str(token_id),),
        )
        if not rows:
            raise NotFound(f"no token {str(token_id)[:40]!r}")
        info = TokenInfo.from_row(rows[0])
        self._may_act_for(info.user)
        self.state.execute(
            "UPDATE access_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
            (self.clock(), info.id),
        )
        return TokenInfo.from_row(
            self.state.query(f"SELECT {TOKEN_COLUMNS} FROM access_tokens WHERE id = ?", (info.id,))[  # noqa: S608 - column list and clause are module constants; values are bound
                0
            ]
        )

    def authenticate_token(self, text: str) -> Principal:
        """The principal a presented token proves (its user, its one role, via ``token``);
        ``Unauthenticated`` with one message for every failure. Needs no actor."""
        parsed = tokens.parse(text)
        if parsed is None:
            raise Unauthenticated(BAD_TOKEN)
        token_id, secret = parsed
        rows = self.state.query(
            "SELECT t.digest, t.user, t.role, t.expires_at, t.revoked_at, t.last_used_at,"
            " u.roles, u.disabled FROM access_tokens t JOIN access_users u ON u.name = t.user"
            " WHERE t.id = ?",
            (token_id,),
        )
        row = rows[0] if rows else None
        stored = str(row[0]) if row is not None else tokens.DUMMY_DIGEST
        if not tokens.matches(stored, token_id, secret) or row is None:
            raise Unauthenticated(BAD_TOKEN)
        now = self.clock()
        user, role = str(row[1]), str(row[2])
        live = row[4] is None and now < _ms(row[3]) and not row[7]
        if not live or role not in roles_of(row[6]):
            raise Unauthenticated(BAD_TOKEN)
        if row[5] is None or now - _ms(row[5]) >= LAST_USED_GRANULARITY:
            self.state.execute(
                "UPDATE access_tokens SET last_used_at = ? WHERE id = ?", (now, token_id)
            )
        return Principal(user, frozenset({role}), "token")
