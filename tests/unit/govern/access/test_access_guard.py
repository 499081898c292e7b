"""``@requires`` guards a service method with the same check as ``require``, refuses a
service opened for nobody, fails at decoration for an unknown permission, and a refusal
under ``@audited`` is an audit entry."""

from __future__ import annotations

import pytest

from garrison.core.errors import AccessDenied
from garrison.govern.access import Principal, requires
from garrison.govern.audit import MemoryAuditLog, audited


class Approvals:
    def __init__(self, principal):
        self.principal = principal
        self.audit = MemoryAuditLog()
        self.done: list[str] = []

    @audited("approval.decide", actor=lambda self, *a, **k: getattr(self.principal, "name", None))
    @requires("approvals.decide")
    def approve(self, approval_id: str) -> str:
        self.done.append(approval_id)
        return approval_id


def test_the_right_role_passes_and_others_are_refused_and_audited():
    ok = Approvals(Principal("rita", frozenset({"responder"}), "token"))
    assert ok.approve("a1") == "a1" and ok.done == ["a1"]
    admin = Approvals(Principal("adam", frozenset({"admin"}), "session"))
    with pytest.raises(AccessDenied, match="needs role responder"):
        admin.approve("a2")
    assert admin.done == []
    [entry] = admin.audit.entries()
    assert (entry.actor, entry.outcome) == ("adam", "error:AccessDenied")
    nobody = Approvals(None)
    with pytest.raises(AccessDenied, match="no authenticated identity"):
        nobody.approve("a3")
    assert Approvals.approve.required_permission == "approvals.decide"


def test_an_unknown_permission_fails_when_decorating():
    with pytest.raises(KeyError):
        requires("approvals.decied")


def test_an_explicit_principal_getter():
    @requires("users.manage", principal=lambda who, *a: who)
    def manage(who, name):
        return name

    assert manage(Principal("root", frozenset({"admin"}), "cli"), "x") == "x"
    with pytest.raises(AccessDenied):
        manage(Principal("ann", frozenset({"analyst"}), "cli"), "x")
