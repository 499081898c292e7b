"""Users: the first-admin bootstrap, who may manage whom, separation of duties, session
passwords (argon2id, one message and the same work for every failure, rehash), audit."""

from __future__ import annotations

import json
import threading

import pytest
from argon2 import PasswordHasher

from garrison.core.errors import AccessDenied, Unauthenticated, UsageError
from garrison.govern.access import BAD_LOGIN, Passwords, UserStore, cli_principal, cli_store
from garrison.govern.audit import MemoryAuditLog
from garrison.store.state import StateDB
from tests.unit.govern.access.conftest import PASSWORD, Home, cheap


def test_an_empty_home_allows_only_the_first_admin():
    h = Home()
    nobody = h.as_(None)
    with pytest.raises(UsageError, match="first user must be an admin"):
        nobody.add_user("ann", ["analyst"])
    with pytest.raises(AccessDenied, match="first admin"):
        nobody.list_users()
    root = nobody.add_user("root", ["admin"])
    assert root.roles == {"admin"} and not root.has_password
    with pytest.raises(AccessDenied, match="only an admin may add users"):
        nobody.add_user("eve", ["admin"])  # the bootstrap is over
    entry = h.audit.entries()[0]
    assert (entry.action, entry.target, entry.outcome) == ("users.add", "eve", "error:AccessDenied")


def test_only_an_admin_manages_users(world):
    ann = world.cli("ann")
    for call in (
        lambda: ann.add_user("eve", ["viewer"]),
        lambda: ann.list_users(),
        lambda: ann.disable("vic"),
        lambda: ann.set_roles("vic", ["analyst"]),
        lambda: ann.set_password("vic", PASSWORD),
    ):
        with pytest.raises(AccessDenied, match=r"users\.manage"):
            call()
    names = [u.name for u in world.cli("root").list_users()]
    assert names == ["ann", "mo", "root", "vic"]


def test_an_admin_cannot_grant_their_own_account_roles(world):
    root = world.cli("root")
    with pytest.raises(AccessDenied, match="separation of duties"):
        root.set_roles("root", ["admin", "responder"])
    root.add_user("ada", ["admin"])
    world.cli("ada").set_roles("root", ["admin", "responder"])  # another admin may
    assert world.cli("root").actor.roles == {"admin", "responder"}
    world.cli("root").set_roles("root", ["admin"])  # giving roles up is fine


def test_the_last_enabled_admin_stays(world):
    root = world.cli("root")
    with pytest.raises(UsageError, match="last enabled admin"):
        root.disable("root")
    with pytest.raises(UsageError, match="last enabled admin"):
        root.set_roles("root", [])
    root.add_user("ada", ["admin"])
    root.disable("ada")
    with pytest.raises(UsageError, match="last enabled admin"):
        root.disable("root")  # a disabled admin does not count


def test_bad_names_and_roles_are_usage_errors(world):
    root = world.cli("root")
    for name in ("", "Root", "a b", "x" * 33, "-x", "ali\u0441e", "a\nb"):
        with pytest.raises(UsageError):
            root.add_user(name, ["viewer"])
    with pytest.raises(UsageError, match="unknown role"):
        root.add_user("eve", ["superuser"])
    with pytest.raises(UsageError, match="already exists"):
        root.add_user("ann", ["viewer"])
    with pytest.raises(UsageError, match="no user"):
        root.disable("nobody")


def test_cli_identity_is_the_registered_os_account(world):
    assert cli_principal(world.state, "ann").roles == {"analyst", "responder"}
    with pytest.raises(AccessDenied, match="garrison users add NAME --role ROLE"):
        cli_principal(world.state, "mallory")
    world.cli("root").disable("ann")
    with pytest.raises(AccessDenied, match="disabled"):
        cli_principal(world.state, "ann")
    empty = Home()
    with pytest.raises(AccessDenied, match="add the first admin"):
        cli_principal(empty.state, "root")
    assert cli_store(empty.state, empty.audit).actor is None
    assert cli_store(world.state, world.audit, "root").actor.name == "root"


def test_password_login_and_one_error_for_every_failure(world):
    store = world.as_(None)
    ok = store.verify_password("ann", PASSWORD)
    assert (ok.name, ok.roles, ok.via) == ("ann", {"analyst", "responder"}, "session")
    world.cli("root").disable("ann")
    failures = [
        ("ann", PASSWORD),  # disabled
        ("root", "wrong password here"),
        ("vic", PASSWORD),  # no password set
        ("nobody", PASSWORD),  # unknown
        ("NOT A NAME", PASSWORD),
        ("root", PASSWORD + "x" * 2000),  # too long, same prefix
    ]
    for name, password in failures:
        with pytest.raises(Unauthenticated) as caught:
            store.verify_password(name, password)
        assert str(caught.value) == BAD_LOGIN


def test_every_failed_login_does_the_same_argon2_work(world, monkeypatch):
    calls: list[str] = []
    real = PasswordHasher.verify

    def spy(self, hash_, password):
        calls.append(hash_)
        return real(self, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    store = world.as_(None)
    for name in ("nobody", "vic", "root"):
        with pytest.raises(Unauthenticated):
            store.verify_password(name, "wrong password here")
    assert len(calls) == 3
    params = {h.split("$")[3] for h in calls}  # m=,t=,p= of every hash verified
    assert len(params) == 1


def test_a_hash_with_old_parameters_is_upgraded_at_login(world):
    stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=128, parallelism=1))
    before = world.state.query("SELECT password_hash FROM access_users WHERE name = 'root'")[0][0]
    upgraded = world.as_(None)
    upgraded.passwords = stronger
    upgraded.verify_password("root", PASSWORD)
    after = world.state.query("SELECT password_hash FROM access_users WHERE name = 'root'")[0][0]
    assert after != before and "m=128,t=2" in after and before.startswith("$argon2id$")
    assert not stronger.hasher.check_needs_rehash(after)
    upgraded.verify_password("root", PASSWORD)  # still the same password


def test_own_password_and_weak_passwords(world):
    ann = world.cli("ann")
    ann.set_password("ann", "a brand new passphrase")
    assert world.as_(None).verify_password("ann", "a brand new passphrase").name == "ann"
    for weak in ("short", " padded password ", "nul\x00inside password"):
        with pytest.raises(UsageError) as caught:
            ann.set_password("ann", weak)
        assert weak not in str(caught.value)


def test_changes_are_audited_with_the_acting_identity_and_no_secret(world):
    root = world.cli("root")
    root.set_password("vic", "vics secret passphrase")
    root.set_roles("vic", ["viewer", "analyst"])
    root.disable("vic")
    root.enable("vic")
    with pytest.raises(Unauthenticated):
        world.as_(None).verify_password("root", "guess guess guess")
    rows = [e for e in reversed(world.audit.entries()) if e.target == "vic"]
    assert [(e.actor, e.action) for e in rows] == [
        ("root", "users.add"),
        ("root", "users.password"),
        ("root", "users.roles"),
        ("root", "users.disable"),
        ("root", "users.enable"),
    ]
    assert json.loads(rows[2].details) == {"roles": ["viewer", "analyst"]}
    text = world.audit_text()
    for secret in (PASSWORD, "vics secret passphrase", "guess guess guess", "$argon2"):
        assert secret not in text
    assert world.audit.verify().ok


def test_secrets_stay_out_of_reprs_and_listings(world):
    users = world.cli("root").list_users()
    text = repr(users) + json.dumps([u.to_json() for u in users])
    assert "argon2" not in text and PASSWORD not in text


def _disable_each_other(path) -> tuple[list[str], int]:
    """Admins a and b, each on its own connection, disable the other at the same moment."""
    boot = UserStore(StateDB(path), MemoryAuditLog(), passwords=cheap())
    boot.add_user("a", ["admin"])
    UserStore(boot.state, boot.audit, boot.principal_for("a", "cli")).add_user("b", ["admin"])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def disable(me: str, other: str) -> None:
        state = StateDB(path)
        store = UserStore(state, MemoryAuditLog(), UserStore(state).principal_for(me, "cli"))
        barrier.wait()
        try:
            store.disable(other)
            outcomes.append("ok")
        except UsageError:
            outcomes.append("refused")

    threads = [threading.Thread(target=disable, args=p) for p in (("a", "b"), ("b", "a"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    enabled = boot.state.query("SELECT name FROM access_users WHERE disabled = 0")
    return sorted(outcomes), len(enabled)


def test_two_admins_disabling_each_other_at_once_leave_one(tmp_path):
    """The last-admin check and the change are one transaction: of two admins on separate
    connections disabling each other at the same moment, exactly one succeeds."""
    for round_ in range(8):
        assert _disable_each_other(tmp_path / f"state{round_}.db") == (["ok", "refused"], 1)
