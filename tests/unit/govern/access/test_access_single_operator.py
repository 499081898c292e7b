"""Single-operator mode: in a home with no registered user the owner of the home's folder
acts with every role through the CLI; registering the first user ends it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from garrison.core.errors import AccessDenied
from garrison.govern.access import ROLES, UserStore, cli_principal, os_account
from garrison.govern.audit import MemoryAuditLog
from garrison.store.state import StateDB


def test_the_owner_of_an_empty_home_holds_every_role(tmp_path: Path) -> None:
    state = StateDB(tmp_path / "state.db")
    principal = cli_principal(state)
    assert principal.name == os_account() and principal.roles == frozenset(ROLES)


def test_an_in_memory_or_foreign_home_is_not_owned(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(AccessDenied, match="first admin"):
        cli_principal(StateDB.memory())
    state = StateDB(tmp_path / "state.db")
    monkeypatch.setattr(os, "geteuid", lambda: 4242)
    with pytest.raises(AccessDenied):
        cli_principal(state, account="someone")


def test_the_first_registered_user_ends_single_operator_mode(tmp_path: Path) -> None:
    state = StateDB(tmp_path / "state.db")
    UserStore(state, MemoryAuditLog()).add_user("boss", ["admin"])
    with pytest.raises(AccessDenied, match="not a registered user"):
        cli_principal(state, account="someone-else")
    assert cli_principal(state, account="boss").roles == frozenset({"admin"})
