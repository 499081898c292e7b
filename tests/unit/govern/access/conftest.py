"""A user store on an in-memory state with a cheap argon2 hasher (the parameters are the
cost; the code paths are the real ones) and a clock the test moves."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from garrison.govern.access import Passwords, UserStore
from garrison.govern.access.policy import Principal
from garrison.govern.audit import MemoryAuditLog
from garrison.store.state import StateDB

T0 = 1_800_000_000_000
PASSWORD = "correct horse battery staple"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def cheap() -> Passwords:
    return Passwords(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


class Home:
    """One state and audit log; ``as_(principal)`` opens the store for an identity."""

    def __init__(self) -> None:
        self.state = StateDB.memory()
        self.audit = MemoryAuditLog()
        self.clock = Clock()
        self.passwords = cheap()

    def as_(self, actor: Principal | None) -> UserStore:
        return UserStore(self.state, self.audit, actor, self.clock, self.passwords)

    def cli(self, name: str) -> UserStore:
        return self.as_(self.as_(None).principal_for(name, "cli"))

    def audit_text(self) -> str:
        return "\n".join(repr(e.to_json()) for e in self.audit.entries())


@pytest.fixture()
def world() -> Home:
    """A home with admin ``root`` (password set), analyst+responder ``ann``, viewer ``vic``,
    model-owner ``mo``."""
    h = Home()
    h.as_(None).add_user("root", ["admin"], PASSWORD)
    admin = h.cli("root")
    admin.add_user("ann", ["analyst", "responder"], PASSWORD)
    admin.add_user("vic", ["viewer"])
    admin.add_user("mo", ["model-owner"])
    return h
