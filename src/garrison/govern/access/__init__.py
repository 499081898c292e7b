"""Identities and roles: who may do what, checked the same way by the CLI, the API and every
service method they call.

* ``ROLES`` and the permission table (``permissions.yaml``, data): ``allowed(principal,
  permission)`` answers, ``require`` raises ``AccessDenied``, ``@requires(permission)``
  guards a service method; an unknown permission name is a ``KeyError``, never allowed.
* ``Principal(name, roles, via)``: an authenticated identity (``cli``, ``token``, ``session``).
* ``UserStore(state, audit, actor)``: users, roles, argon2id passwords and API tokens in the
  home's state, every change audited with the acting identity.
* ``cli_principal(state)`` / ``cli_store(state)``: the CLI's identity is the OS account
  mapped to the registered user of the same name; an empty home allows only the first admin.

docs/access.md has the table, the token format and the bootstrap.
"""

from garrison.core.errors import AccessDenied, Unauthenticated
from garrison.govern.access.guard import authorizer, in_process, requires
from garrison.govern.access.identity import cli_principal, cli_store, os_account
from garrison.govern.access.names import DEFAULT_TTL, check_name, parse_ttl
from garrison.govern.access.passwords import Passwords, check_password
from garrison.govern.access.policy import (
    ROLES,
    VIA,
    Permission,
    Principal,
    allowed,
    permission,
    permissions,
    require,
    roles_for,
)
from garrison.govern.access.schema import IssuedToken, TokenInfo, UserInfo
from garrison.govern.access.store import BAD_LOGIN, UserStore
from garrison.govern.access.tokenstore import BAD_TOKEN

__all__ = [
    "BAD_LOGIN",
    "BAD_TOKEN",
    "DEFAULT_TTL",
    "ROLES",
    "VIA",
    "AccessDenied",
    "IssuedToken",
    "Passwords",
    "Permission",
    "Principal",
    "TokenInfo",
    "Unauthenticated",
    "UserInfo",
    "UserStore",
    "allowed",
    "authorizer",
    "check_name",
    "check_password",
    "cli_principal",
    "cli_store",
    "in_process",
    "os_account",
    "parse_ttl",
    "permission",
    "permissions",
    "require",
    "requires",
    "roles_for",
]
