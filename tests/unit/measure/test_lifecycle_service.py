"""``LifecycleService``: promote and rollback need ``models.promote`` (model-owner only, not
admin), and every move, refused ones included, is audited with the acting identity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from garrison.core.errors import AccessDenied, Conflict
from garrison.govern.access import Principal, authorizer
from garrison.govern.audit import MemoryAuditLog
from garrison.measure.lifecycle import LifecycleService
from garrison.measure.ml_eval.tamper_models import registered_version


def _service(home: Path, name: str, *roles: str) -> tuple[LifecycleService, MemoryAuditLog]:
    log = MemoryAuditLog()
    principal = Principal(name, frozenset(roles), "token")
    return LifecycleService(home, log, principal.name, authorizer(principal)), log


def _oldest_first(log: MemoryAuditLog) -> list[Any]:
    return sorted(log.entries(), key=lambda e: e.seq)


@pytest.mark.parametrize("role", ["viewer", "analyst", "responder", "admin"])
def test_only_a_model_owner_moves_a_model(home: Path, role: str) -> None:
    registered_version(home, home / "models" / "v1", "dga-v1")
    service, log = _service(home, "eve", role)
    with pytest.raises(AccessDenied):
        service.promote("dga", "dga-v1", "shadow")
    with pytest.raises(AccessDenied):
        service.rollback("dga")
    assert [(e.action, e.actor, e.outcome) for e in _oldest_first(log)] == [
        ("models.promote", "eve", "error:AccessDenied"),
        ("models.rollback", "eve", "error:AccessDenied"),
    ]
    if role == "admin":  # admin manages users, it does not even read models
        with pytest.raises(AccessDenied):
            service.stages()
    else:
        assert service.stages() == []


def test_moves_are_audited_with_the_actor(home: Path) -> None:
    registered_version(home, home / "models" / "v1", "dga-v1")
    service, log = _service(home, "olga", "model-owner")
    for stage in ("shadow", "canary", "production"):
        service.promote("dga", "dga-v1", stage)
    with pytest.raises(Conflict):
        service.promote("dga", "dga-v1", "canary")
    move = service.rollback("dga")
    assert move.version == "" and move.replaced == "dga-v1"  # back to the shipped model
    entries = _oldest_first(log)
    assert [(e.action, e.actor, e.outcome) for e in entries] == [
        ("models.promote", "olga", "ok"),
        ("models.promote", "olga", "ok"),
        ("models.promote", "olga", "ok"),
        ("models.promote", "olga", "error:Conflict"),
        ("models.rollback", "olga", "ok"),
    ]
    assert entries[2].details_obj()["to"] == "production"
    assert entries[2].details_obj()["version"] == "dga-v1"
    assert entries[4].details_obj()["version"] == "shipped"
    (view,) = service.stages("dga")
    assert view.stages == {"shadow": None, "canary": None, "production": None}
    assert view.rollback_target is None and view.problems == []
