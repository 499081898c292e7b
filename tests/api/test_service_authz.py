"""Defence in depth: the services the routes call check the principal's permission
themselves, so a route that forgot its declaration would still refuse; a refused audited
call is audited too. The CLI opens the same services through ``cli_principal``."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.core.config import load_config
from garrison.core.errors import AccessDenied
from garrison.correlate.workbench import Workbench
from garrison.govern.access import Principal, authorizer, permission
from garrison.govern.audit import open_audit
from garrison.govern.audit.reader import AuditFilter, AuditReader
from garrison.measure.kpi.service import read_kpis
from garrison.measure.training import ModelService
from garrison.store.state import StateDB


def who(role: str) -> Principal:
    return Principal("u-" + role, frozenset({role}), "token")


def test_the_workbench_refuses_what_the_role_lacks_and_audits_the_refusal(tmp_path: Path):
    config = load_config(tmp_path)
    bench = Workbench.open(config, lambda _s: who("viewer"))
    assert bench.list_findings() == []
    with pytest.raises(AccessDenied, match=r"findings\.write"):
        bench.dispose_finding("x", "fp")
    with pytest.raises(AccessDenied, match=r"allowlist\.write"):
        bench.allow("ip", "10.0.0.1")
    with pytest.raises(AccessDenied, match=r"incidents\.write"):
        bench.merge("a", ["b"])
    entry = open_audit(tmp_path).entries(1, "allowlist.add")[0]
    assert entry.actor == "u-viewer" and entry.outcome.startswith("error")
    admin = Workbench.open(config, lambda _s: who("admin"))
    for call in (admin.list_findings, admin.list_incidents, admin.allow_entries):
        with pytest.raises(AccessDenied):
            call()


def test_every_workbench_entry_point_asks_a_permission(tmp_path: Path) -> None:
    asked: list[str] = []
    bench = Workbench.open(load_config(tmp_path))

    def refuse(name: str) -> None:
        permission(name)
        asked.append(name)
        raise AccessDenied("refused by the test")

    bench.authorize = refuse
    calls = {
        "list_findings": (),
        "finding": ("x",),
        "list_incidents": (),
        "incident": ("x",),
        "incident_events": ("x",),
        "similar": ("x",),
        "dispose_finding": ("x", "fp"),
        "dispose_incident": ("x", "fp"),
        "set_status": ("x", "resolved"),
        "assign": ("x", "ann"),
        "merge": ("x", ["y"]),
        "split": ("x", ["y"]),
        "allow": ("ip", "10.0.0.1"),
        "unallow": (1,),
        "allow_entries": (),
        "rule_stats": (),
        "tuning": (),
    }
    for name, args in calls.items():
        with pytest.raises(AccessDenied):
            getattr(bench, name)(*args)
    assert len(asked) == len(calls)


def test_models_audit_and_kpis_check_their_permissions(tmp_path: Path) -> None:
    with pytest.raises(AccessDenied, match=r"models\.read"):
        ModelService.open(tmp_path, principal=who("admin")).registry()
    with pytest.raises(AccessDenied, match=r"models\.train"):
        ModelService.open(tmp_path, principal=who("analyst")).register("dga", tmp_path)
    assert ModelService.open(tmp_path, principal=who("viewer")).registry().rows
    log = open_audit(tmp_path)
    with pytest.raises(AccessDenied, match=r"audit\.read"):
        AuditReader(log, authorizer(who("viewer"))).entries(AuditFilter())
    with pytest.raises(AccessDenied, match=r"audit\.verify"):
        AuditReader(log, authorizer(who("model-owner"))).verify()
    assert AuditReader(log, authorizer(who("admin"))).verify().ok
    StateDB(tmp_path / "state.db")
    assert "volume" in read_kpis(load_config(tmp_path), authorizer(who("viewer")))
