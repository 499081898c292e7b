"""``UserStore``: users, their roles and passwords, in the home's SQLite state.

The store is a service opened *for* an identity (``actor``, a ``Principal``) and checks that
identity on every method, so the CLI, the API and anything else calling it get the same
rules: managing users needs ``users.manage`` (admin), a user may change their own password,
and with no identity at all the only thing allowed is adding the first admin to a home that
has no user yet (the bootstrap, decided inside the insert's transaction so two racing
bootstraps cannot both win). Separation of duties: an admin cannot add roles to their own
account, and the last enabled admin cannot be disabled or lose the role.

Every change is written to the audit log with the acting identity (``@audited``); a
password or token secret is never an argument any describer reads, so it cannot reach an
entry, and it is never quoted in an exception. Tokens: ``TokenStore`` (``tokenstore``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from typing import Any

from garrison.core.errors import AccessDenied, Unauthenticated, UsageError
from garrison.govern.access.base import acting
from garrison.govern.access.names import check_name, check_roles
from garrison.govern.access.passwords import MAX_LENGTH
from garrison.govern.access.policy import ROLES, Principal
from garrison.govern.access.schema import USER_COLUMNS, UserInfo, roles_of, roles_text
from garrison.govern.access.tokenstore import TokenStore
from garrison.govern.audit import audited

#: The one message for every failed login, whatever the cause.
BAD_LOGIN = "invalid user name or password"


def _roles_list(roles: Collection[str]) -> list[str]:
    """Roles as given, known ones in ``ROLES`` order then any others, for an audit entry.
    Never consumes an iterator (the describer runs before the method)."""
    if not isinstance(roles, Collection) or isinstance(roles, str):
        return [f"<{type(roles).__name__}>"]
    given = {str(r) for r in roles}
    return [r for r in ROLES if r in given] + sorted(given - set(ROLES))


def _login_target(self: UserStore, name: object, *_a: Any, **_k: Any) -> str:
    """A login's claimed name for the audit entry, only when it has the shape of a name
    (a password typed into the name field must not end up in the log)."""
    try:
        return check_name(str(name))
    except UsageError:
        return "<not a user name>"


class UserStore(TokenStore):
    """Users and tokens for one acting identity (see the module docstring)."""

    @staticmethod
    def _keeps_an_admin(conn: sqlite3.Connection, name: str, still_admin: bool) -> None:
        """Refuse a change that leaves no enabled admin (nobody could manage users); run
        inside the change's transaction, so two admins cannot disable each other at once."""
        if still_admin:
            return
        rows = conn.execute(
            "SELECT roles FROM access_users WHERE disabled = 0 AND name != ?", (name,)
        ).fetchall()
        if not any("admin" in roles_of(r[0]) for r in rows):
            raise UsageError(f"{name} is the last enabled admin: add another admin first")

    # -- reading ----------------------------------------------------------------------------
    def list_users(self) -> list[UserInfo]:
        self._require("users.manage")
        rows = self.state.query(f"SELECT {USER_COLUMNS} FROM access_users ORDER BY name")
        return [UserInfo.from_row(r) for r in rows]

    def principal_for(self, name: str, via: str) -> Principal:
        """The principal of the enabled registered user ``name`` (for an identity the caller
        has already proved, such as the CLI's OS account); ``AccessDenied`` otherwise."""
        user = self._row(name) if isinstance(name, str) else None
        if user is None or user.disabled:
            state = "disabled" if user is not None else "not a registered user"
            hint = (
                "register it: garrison users add NAME --role ROLE"
                if self.has_users()
                else "no user is registered yet: add the first admin with "
                "garrison users add NAME --role admin"
            )
            raise AccessDenied(f"{str(name)[:64]!r} is {state}; {hint}")
        return Principal(user.name, user.roles, via)

    # -- changing users ---------------------------------------------------------------------
    @audited(
        "users.add",
        actor=acting,
        target=lambda self, name, *a, **k: name,
        details=lambda self, name, roles, password=None: {
            "roles": _roles_list(roles),
            "login": "none" if password is None else "password",
        },
    )
    def add_user(self, name: str, roles: Collection[str], password: str | None = None) -> UserInfo:
        """Register ``name`` with ``roles``; without an actor, only the first admin."""
        if self.actor is not None:
            self._require("users.manage")
        elif self.has_users():  # checked again in the transaction; this spares the hash
            self._bootstrap_check(None, frozenset())
        wanted = check_roles(roles)
        check_name(name)
        hashed = self.passwords.hash(password) if password is not None else None
        try:
            with self.state.transaction() as conn:
                if self.actor is None:
                    self._bootstrap_check(conn, wanted)
                conn.execute(
                    "INSERT INTO access_users (name, roles, password_hash, created_at, disabled)"
                    " VALUES (?, ?, ?, ?, 0)",
                    (name, roles_text(wanted), hashed, self.clock()),
                )
        except sqlite3.IntegrityError:
            raise UsageError(f"user {name!r} already exists") from None
        return self._existing(name)

    @staticmethod
    def _bootstrap_check(conn: sqlite3.Connection | None, wanted: frozenset[str]) -> None:
        if conn is None or conn.execute("SELECT 1 FROM access_users LIMIT 1").fetchone():
            raise AccessDenied(
                "users exist already: only an admin may add users (run as a registered admin)"
            )
        if "admin" not in wanted:
            raise UsageError("the first user must be an admin: add --role admin")

    @audited("users.password", actor=acting, target=lambda self, name, *a, **k: name)
    def set_password(self, name: str, password: str | None) -> None:
        """Set (or with ``None`` remove) a password: for oneself, or as an admin."""
        if self.actor is None or self.actor.name != name:
            self._require("users.manage")
        self._existing(name)
        hashed = self.passwords.hash(password) if password is not None else None
        self.state.execute(
            "UPDATE access_users SET password_hash = ? WHERE name = ?", (hashed, name)
        )

    @audited("users.disable", actor=acting, target=lambda self, name, *a, **k: name)
    def disable(self, name: str) -> None:
        """Disable a user: their CLI identity, tokens and password stop working at once."""
        self._require("users.manage")
        with self.state.transaction() as conn:
            user = self._existing(name, conn)
            self._keeps_an_admin(conn, name, "admin" not in user.roles or user.disabled)
            conn.execute("UPDATE access_users SET disabled = 1 WHERE name = ?", (name,))

    @audited("users.enable", actor=acting, target=lambda self, name, *a, **k: name)
    def enable(self, name: str) -> None:
        self._require("users.manage")
        self._existing(name)
        self.state.execute("UPDATE access_users SET disabled = 0 WHERE name = ?", (name,))

    @audited(
        "users.roles",
        actor=acting,
        target=lambda self, name, *a, **k: name,
        details=lambda self, name, roles, *a, **k: {"roles": _roles_list(roles)},
    )
    def set_roles(self, name: str, roles: Collection[str]) -> UserInfo:
        """Replace a user's roles. Tokens scoped to a role the user loses stop working."""
        actor = self._require("users.manage")
        wanted = check_roles(roles, allow_empty=True)
        with self.state.transaction() as conn:
            user = self._existing(name, conn)
            if actor.name == name and not wanted <= user.roles:
                added = ", ".join(_roles_list(wanted - user.roles))
                raise AccessDenied(
                    f"{name} may not grant their own account {added} (separation of duties): "
                    "another admin must"
                )
            self._keeps_an_admin(conn, name, "admin" in wanted or user.disabled)
            conn.execute(
                "UPDATE access_users SET roles = ? WHERE name = ?", (roles_text(wanted), name)
            )
        return self._existing(name)

    # -- session login ----------------------------------------------------------------------
    @audited(
        "auth.password",
        actor=acting,
        target=_login_target,
        result=lambda p, *a, **k: {"roles": _roles_list(p.roles)},
    )
    def verify_password(self, name: str, password: str) -> Principal:
        """The session principal of ``name`` if ``password`` is theirs; ``Unauthenticated``
        with one message for an unknown, disabled or password-less user and a wrong
        password alike, after the same argon2 work (a dummy hash stands in)."""
        user = None
        stored: str | None = None
        if isinstance(name, str) and _login_target(self, name) == name:
            rows = self.state.query(
                "SELECT name, roles, password_hash, disabled FROM access_users WHERE name = ?",
                (name,),
            )
            if rows and not rows[0][3]:
                user, stored = rows[0], (None if rows[0][2] is None else str(rows[0][2]))
        given = password if isinstance(password, str) else ""
        ok, new_hash = self.passwords.verify(stored, given[:MAX_LENGTH])
        if not ok or user is None or len(given) > MAX_LENGTH:
            raise Unauthenticated(BAD_LOGIN)
        if new_hash is not None:
            self.state.execute(
                "UPDATE access_users SET password_hash = ? WHERE name = ?", (new_hash, name)
            )
        return Principal(str(user[0]), roles_of(user[1]), "session")
