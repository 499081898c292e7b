"""What the user and token halves of ``UserStore`` share: the state, the audit log, the
acting identity, the clock, and the permission check every method starts with."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from garrison.core.errors import AccessDenied, NotFound
from garrison.core.timeutil import now_ms
from garrison.govern.access.names import check_name
from garrison.govern.access.passwords import Passwords
from garrison.govern.access.policy import Principal, require
from garrison.govern.access.schema import DDL, USER_COLUMNS, UserInfo
from garrison.govern.audit import AuditLog, audit_for_state
from garrison.store.state import StateDB


def acting(self: StoreBase, *_args: Any, **_kwargs: Any) -> str | None:
    """The audit entry's actor: the identity the store was opened for (None: the OS
    account, which is who bootstraps the first admin)."""
    return self.actor.name if self.actor is not None else None


class StoreBase:
    def __init__(
        self,
        state: StateDB,
        audit: AuditLog | None = None,
        actor: Principal | None = None,
        clock: Callable[[], int] = now_ms,
        passwords: Passwords | None = None,
    ) -> None:
        self.state = state
        self.audit = audit if audit is not None else audit_for_state(state)
        #: Who acts (authenticated by the caller); None: nobody yet (bootstrap only).
        self.actor = actor
        #: Milliseconds since the epoch; tests inject one to move time.
        self.clock = clock
        self.passwords = passwords if passwords is not None else Passwords()
        state.ensure(DDL)

    def _require(self, permission: str) -> Principal:
        if self.actor is None:
            hint = (
                "run as a registered user (garrison users add NAME --role ROLE)"
                if self.has_users()
                else "no user is registered yet: add the first admin with "
                "garrison users add NAME --role admin"
            )
            raise AccessDenied(f"no authenticated identity may {permission}; {hint}")
        require(self.actor, permission)
        return self.actor

    def _row(self, name: str, conn: sqlite3.Connection | None = None) -> UserInfo | None:
        """The user ``name``, read inside ``conn``'s transaction when given."""
        sql = f"SELECT {USER_COLUMNS} FROM access_users WHERE name = ?"  # noqa: S608 - column list and clause are module constants; values are bound
        rows = conn.execute(sql, (name,)).fetchall() if conn else self.state.query(sql, (name,))
        return UserInfo.from_row(rows[0]) if rows else None

    def _existing(self, name: str, conn: sqlite3.Connection | None = None) -> UserInfo:
        user = self._row(check_name(name), conn)
        if user is None:
            raise NotFound(f"no user {name!r}")
        return user

    def has_users(self) -> bool:
        """Whether any user is registered (no identity is needed to ask)."""
        return bool(self.state.query("SELECT 1 FROM access_users LIMIT 1"))
