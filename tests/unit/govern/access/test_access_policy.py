"""The permission table is data, checked at load, and grants by least privilege; ``allowed``
and ``require`` agree, and an unknown permission is an error, never allowed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.core.errors import AccessDenied, GarrisonError
from garrison.govern.access import ROLES, Principal, allowed, permissions, require, roles_for
from garrison.govern.access.policy import PolicyError, parse_table

WRITES = {
    "findings.write",
    "incidents.write",
    "allowlist.write",
    "hunt.run",
    "ingest.write",
    "approvals.decide",
    "respond.run",
    "models.train",
    "models.promote",
    "users.manage",
    "privacy.manage",
}


def who(*roles: str, via: str = "token") -> Principal:
    return Principal("alice", frozenset(roles), via)


def test_the_table_names_what_issues_10_and_11_ask_for():
    table = permissions()
    for name in (
        "findings.read",
        "incidents.read",
        "incidents.write",
        "approvals.read",
        "approvals.decide",
        "respond.run",
        "playbooks.read",
        "playbooks.check",
        "models.read",
        "models.promote",
        "models.train",
        "audit.read",
        "audit.verify",
        "users.manage",
        "hunt.run",
        "kpi.read",
        "privacy.manage",
        "config.read",
    ):
        assert name in table
    assert set(table) >= WRITES


def test_least_privilege():
    assert roles_for("approvals.decide") == ("responder",)
    assert roles_for("respond.run") == ("responder",)
    assert roles_for("models.promote") == ("model-owner",)
    assert roles_for("models.train") == ("model-owner",)
    assert roles_for("users.manage") == ("admin",)
    assert roles_for("privacy.manage") == ("admin",)
    assert roles_for("hunt.run") == ("analyst",)
    viewer = who("viewer")
    assert not any(allowed(viewer, p) for p in WRITES)  # viewer only reads
    assert allowed(viewer, "findings.read") and allowed(viewer, "incidents.read")


def test_admin_implies_neither_responder_nor_model_owner():
    admin = who("admin")
    for name in ("approvals.decide", "respond.run", "models.promote", "models.train"):
        assert not allowed(admin, name)
    assert allowed(admin, "users.manage")
    assert not allowed(who("responder"), "users.manage")
    assert not allowed(who("model-owner"), "approvals.decide")


def test_only_model_owner_promotes_and_only_responder_decides():
    for role in ROLES:
        assert allowed(who(role), "models.promote") == (role == "model-owner")
        assert allowed(who(role), "approvals.decide") == (role == "responder")


def test_several_roles_add_up():
    both = who("analyst", "responder")
    assert allowed(both, "hunt.run") and allowed(both, "approvals.decide")
    assert not allowed(both, "users.manage")


def test_unknown_permission_is_an_error_never_allowed():
    everyone = who(*ROLES)
    with pytest.raises(KeyError):
        allowed(everyone, "approvals.decied")
    with pytest.raises(KeyError):
        require(everyone, "")


def test_require_message_names_who_what_and_which_roles():
    with pytest.raises(AccessDenied) as caught:
        require(Principal("bob", frozenset({"admin"}), "session"), "approvals.decide")
    text = str(caught.value)
    assert "bob (session)" in text and "approvals.decide" in text
    assert "needs role responder" in text and "holds admin" in text
    assert isinstance(caught.value, GarrisonError) and caught.value.exit_code == 2
    with pytest.raises(AccessDenied, match="holds no role"):
        require(who(), "findings.read")


def test_principal_refuses_unknown_roles_and_methods():
    with pytest.raises(ValueError):
        Principal("a", frozenset({"root"}), "cli")
    with pytest.raises(ValueError):
        Principal("a", frozenset({"viewer"}), "ssh")


GOOD = """
roles: [viewer, analyst, responder, admin, model-owner]
permissions:
  a.read: {roles: [viewer, analyst, responder, admin, model-owner], why: x}
"""


def test_parse_table_accepts_a_good_table():
    assert set(parse_table(GOOD)) == {"a.read"}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (GOOD.replace("model-owner]", "model-ownr]", 2), "roles must be exactly"),
        (GOOD.replace("admin, model-owner], why", "admin, root], why"), "unknown role"),
        (GOOD.replace("a.read:", "A read:"), "bad permission name"),
        (
            GOOD.replace("{roles: [viewer, analyst, responder, admin, model-owner], why: x}", "{}"),
            "non-empty 'roles'",
        ),
        (
            GOOD + "  b.read: {roles: [viewer], why: y}\n  b.read: {roles: [admin], why: z}\n",
            "given twice: b.read",
        ),
        (
            GOOD.replace("viewer, analyst, responder, admin, model-owner], why", "viewer], why"),
            "granted nothing",
        ),
        ("roles: []\n", "'permissions' mapping"),
    ],
)
def test_parse_table_refuses_a_bad_table(text, reason):
    with pytest.raises(PolicyError, match=reason):
        parse_table(text)


principals = st.builds(
    Principal,
    st.text(min_size=1, max_size=12),
    st.frozensets(st.sampled_from(ROLES)),
    st.sampled_from(["cli", "token", "session"]),
)


@settings(max_examples=400, deadline=None)
@given(principals, st.sampled_from(sorted(permissions())))
def test_require_raises_iff_not_allowed(principal, name):
    expected = bool(principal.roles & set(roles_for(name)))
    assert allowed(principal, name) is expected
    if expected:
        require(principal, name)
    else:
        with pytest.raises(AccessDenied):
            require(principal, name)


@settings(max_examples=200, deadline=None)
@given(principals, st.text(max_size=30).filter(lambda n: n not in permissions()))
def test_any_other_permission_name_is_refused(principal, name):
    with pytest.raises(KeyError):
        allowed(principal, name)
    with pytest.raises(KeyError):
        require(principal, name)
