"""The command line's identity: the operating-system account running ``garrison``, mapped to
the registered user of the same name.

What this proves, and what it does not: the CLI works on the home's files directly, so its
identity is exactly as strong as the file permissions of the home. Whoever can write
``state.db`` can also write the users table; the CLI check stops a colleague on a shared
account list from acting beyond their roles through Garrison, and it puts the right name
on every audit entry, but it is not a boundary against the owner of the files. The API
(tokens and session passwords) is the boundary for everyone else. There are no default
credentials: an empty home has no user, and the API lets nobody in until the first admin
is added (``garrison users add NAME --role admin``).

A home with no registered user is a single operator's: the account that owns the home's
folder acts there with every role through the CLI (a hunter running ``garrison hunt`` on
a laptop is the whole team, and could edit every file anyway); any other account is
refused. Registering the first user ends that mode: from then on every CLI identity must
be a registered user, with its own roles.

The account is read from the password database for the effective uid, not from ``$USER``
or ``$LOGNAME`` (which ``getpass`` and the audit log's ``current_actor`` trust, and which
any process can set): ``USER=admin garrison users add ...`` proves nothing. A uid with no
account name becomes ``uid:N``, which is not a valid user name and so is never registered.
"""

from __future__ import annotations

import os
from pathlib import Path

from garrison.govern.access.policy import ROLES, Principal
from garrison.govern.access.store import UserStore
from garrison.govern.audit import AuditLog
from garrison.govern.audit.log import current_actor
from garrison.store.state import StateDB


def os_account() -> str:
    """The name of the account running this process, from the uid (see above)."""
    try:
        import pwd
    except ImportError:  # pragma: no cover - not POSIX: the platform's own answer
        return current_actor()
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid:{uid}"


def cli_principal(state: StateDB, account: str | None = None) -> Principal:
    """The principal of the OS account (``account`` overrides it, for tests): the registered,
    enabled user of that name; in a home with no user, the owner of the home's folder with
    every role (single-operator mode, above). Anyone else gets ``AccessDenied`` with the
    command that registers them."""
    store = UserStore(state)
    name = account or os_account()
    if not store.has_users() and _owns_home(state):
        return Principal(name, frozenset(ROLES), "cli")
    return store.principal_for(name, "cli")


def _owns_home(state: StateDB) -> bool:
    """Whether this process's effective uid owns the folder of the state database."""
    if state.path == ":memory:":
        return False
    try:
        return Path(state.path).parent.stat().st_uid == os.geteuid()
    except OSError:
        return False


def cli_store(
    state: StateDB, audit: AuditLog | None = None, account: str | None = None
) -> UserStore:
    """The ``UserStore`` as the CLI uses it: acting as the OS account's user, or, in a home
    with no user at all, as nobody (which may only add the first admin)."""
    probe = UserStore(state, audit)
    if not probe.has_users():
        return probe
    return UserStore(state, probe.audit, cli_principal(state, account))
