"""The response engine end to end on an in-memory home: policy, approvals, modes, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from garrison.core.errors import InputError, UsageError
from tests.unit.respond.conftest import Home, make_finding, make_incident, write_playbook

BLOCK = """
id: block
name: Block
mode: live
trigger: {on: finding, analytic: ml.beacon, entity_type: ip}
steps:
  - id: look
    action: enrich
  - id: block
    action: block.ip
    when: {step: look}
    params: {ip: "{{entity}}", reason: "beacon {{finding.uid}}"}
    approval: {required: true, quorum: 2, expires: 1h, fallback: reject}
  - id: tell
    action: notify.email
    when: {step: block, outcome: succeeded}
    params: {to: [soc@example.org], subject: "blocked {{entity}}"}
  - id: sorry
    action: notify.email
    when: {step: block, outcome: failed}
    params: {to: [soc@example.org], subject: "not blocked {{entity}}"}
"""

TICKET = """
id: ticket
name: Ticket
mode: live
trigger: {on: incident, min_risk: 60}
steps:
  - id: open
    action: ticket.open
    params: {queue: soc, title: "{{incident.title}}"}
"""


def pending(home: Home) -> list:
    return home.service().list_approvals()


def test_read_only_runs_and_gated_waits_for_approval(home: Home, tmp_path: Path) -> None:
    home.store([make_finding()])
    summary = home.service().respond([write_playbook(tmp_path / "p", "b", BLOCK)])
    assert summary.started == {"block": 1}
    assert [d.action for d in home.twin.sends] == ["enrich"]
    (view,) = pending(home)
    assert view.approval.action == "block.ip"
    assert view.approval.params["ip"] == "203.0.113.7"
    assert view.approval.quorum == 2


def test_quorum_of_distinct_identities_then_the_run_goes_on(home: Home, tmp_path: Path) -> None:
    home.store([make_finding()])
    folder = write_playbook(tmp_path / "p", "b", BLOCK)
    home.service().respond([folder])
    (view,) = pending(home)
    home.service("alice").approve(view.approval.id)
    assert [d.action for d in home.twin.sends] == ["enrich"]  # one of two
    with pytest.raises(UsageError, match="already decided"):
        home.service("alice").approve(view.approval.id)
    home.service("bob").approve(view.approval.id)
    assert [d.action for d in home.twin.sends] == ["enrich", "block.ip", "notify.email"]
    assert home.twin.sends[2].params["subject"] == "blocked 203.0.113.7"
    executed = home.audit.entries(action="respond.execute")
    assert len(executed) == 3
    block = next(e for e in executed if json.loads(e.details)["action"] == "block.ip")
    assert json.loads(block.details)["approved_by"] == ["alice", "bob"]
    # a second respond acts on nothing again
    home.service().respond([folder])
    assert len(home.twin.sends) == 3


def test_edit_resets_the_quorum_to_the_new_parameters(home: Home, tmp_path: Path) -> None:
    home.store([make_finding()])
    home.service().respond([write_playbook(tmp_path / "p", "b", BLOCK)])
    (view,) = pending(home)
    home.service("alice").approve(view.approval.id)
    home.service("bob").approve(view.approval.id, {"duration": "2h"})
    assert [d.action for d in home.twin.sends] == ["enrich"]  # alice saw other parameters
    home.service("carol").approve(view.approval.id)
    block = home.twin.sends[1]
    assert block.action == "block.ip" and block.params["duration"] == "2h"


def test_edit_of_an_unknown_parameter_is_refused(home: Home, tmp_path: Path) -> None:
    home.store([make_finding()])
    home.service().respond([write_playbook(tmp_path / "p", "b", BLOCK)])
    (view,) = pending(home)
    with pytest.raises(UsageError, match="no parameter"):
        home.service().approve(view.approval.id, {"target": "10.0.0.1"})


def test_reject_needs_a_reason_and_runs_the_failure_branch(home: Home, tmp_path: Path) -> None:
    home.store([make_finding()])
    home.service().respond([write_playbook(tmp_path / "p", "b", BLOCK)])
    (view,) = pending(home)
    with pytest.raises(UsageError, match="reason"):
        home.service().reject(view.approval.id, "  ")
    home.service("bob").reject(view.approval.id, "shared hosting, not the attacker")
    assert [d.action for d in home.twin.sends] == ["enrich", "notify.email"]
    assert home.twin.sends[1].params["subject"] == "not blocked 203.0.113.7"
    assert not pending(home)
    with pytest.raises(UsageError, match="rejected"):
        home.service("carol").approve(view.approval.id)


def test_expiry_falls_back_to_reject(home: Home, tmp_path: Path) -> None:
    home.store([make_finding()])
    folder = write_playbook(tmp_path / "p", "b", BLOCK)
    home.service().respond([folder])
    home.clock.now += 3_600_001
    summary = home.service().respond([folder])
    assert summary.expired == 1
    assert [d.action for d in home.twin.sends] == ["enrich", "notify.email"]
    assert home.audit.entries(action="approval.expire")


def test_escalation_keeps_the_approval_open(home: Home, tmp_path: Path) -> None:
    home.store([make_finding()])
    folder = write_playbook(
        tmp_path / "p", "b", BLOCK.replace("fallback: reject", "fallback: escalate")
    )
    home.cfg.escalate_to = "oncall"
    home.service().respond([folder])
    home.clock.now += 3_600_001
    home.service().respond([folder])
    home.service().respond([folder])
    assert len(home.audit.entries(action="approval.escalate")) == 1
    escalation = home.twin.sends[-1]
    assert escalation.action == "notify.webhook" and escalation.params["connector"] == "oncall"
    (view,) = pending(home)
    assert view.approval.escalated_at is not None


def test_reversible_below_confidence_waits(home: Home, tmp_path: Path) -> None:
    f = make_finding(confidence=40)
    home.store([f], [make_incident([f], risk=65)])
    home.service().respond([write_playbook(tmp_path / "p", "t", TICKET)])
    (view,) = pending(home)
    assert "confidence 65 below 70" in view.approval.reason
    assert not home.twin.sends


def test_reversible_above_confidence_runs(home: Home, tmp_path: Path) -> None:
    f = make_finding()
    home.store([f], [make_incident([f], risk=85)])
    home.service().respond([write_playbook(tmp_path / "p", "t", TICKET)])
    assert [d.action for d in home.twin.sends] == ["ticket.open"]
    assert home.twin.sends[0].params["title"] == "incident"


def test_rate_limit_queues_reversible_actions(home: Home, tmp_path: Path) -> None:
    home.cfg.rate_limits = {"ticket.open": "2/h"}
    findings = [make_finding(record=i) for i in range(4)]
    incidents = [make_incident([f], uid=f"inc-{i}") for i, f in enumerate(findings)]
    home.store(findings, incidents)
    summary = home.service().respond([write_playbook(tmp_path / "p", "t", TICKET)])
    assert len(home.twin.sends) == 2
    assert summary.pending == 2
    assert all("rate limit" in v.approval.reason for v in pending(home))


def test_shadow_and_dry_run_never_send(home: Home, tmp_path: Path) -> None:
    home.store([make_finding()])
    folder = write_playbook(tmp_path / "p", "b", BLOCK)
    summary = home.service().respond([folder], mode="shadow")
    assert summary.modes == {"block": "shadow"}
    assert summary.steps == {"shadow": 3, "skipped": 1}  # the failure branch would not run
    assert not home.twin.sends and not home.twin.checks and not pending(home)


def test_dry_run_calls_the_validation_path_only(home: Home, tmp_path: Path) -> None:
    home.store([make_finding()])
    summary = home.service().respond([write_playbook(tmp_path / "p", "b", BLOCK)], mode="dry-run")
    assert not home.twin.sends
    assert [d.action for d in home.twin.checks] == ["enrich", "block.ip", "notify.email"]
    assert summary.steps["validated"] == 3 and summary.steps["skipped"] == 1


def test_connector_failure_is_a_recorded_failed_step(home: Home, tmp_path: Path) -> None:
    f = make_finding()
    home.store([f], [make_incident([f])])
    home.twin.fail = 1
    summary = home.service().respond([write_playbook(tmp_path / "p", "t", TICKET)])
    assert summary.steps["failed"] == 1
    (entry,) = home.audit.entries(action="respond.execute")
    assert entry.outcome == "error:failed"
    assert json.loads(entry.details)["attempts"] == 3


def test_invalid_playbook_stops_everything(home: Home, tmp_path: Path) -> None:
    home.store([make_finding()])
    folder = write_playbook(tmp_path / "p", "b", BLOCK.replace("block.ip", "block.everything"))
    with pytest.raises(InputError, match="invalid playbook"):
        home.service().respond([folder])
    assert not home.twin.sends


def test_playbook_and_config_changes_are_audited(home: Home, tmp_path: Path) -> None:
    folder = write_playbook(tmp_path / "p", "b", BLOCK)
    home.service().respond([folder])
    home.service().respond([folder])
    assert [e.target for e in home.audit.entries(action="playbook.add")] == ["block"]
    write_playbook(tmp_path / "p", "b", BLOCK.replace("quorum: 2", "quorum: 1"))
    home.service().respond([folder])
    assert [e.target for e in home.audit.entries(action="playbook.change")] == ["block"]
    assert len(home.audit.entries(action="config.add")) == 1


def test_unauthorised_identity_cannot_decide(home: Home, tmp_path: Path) -> None:
    home.store([make_finding()])
    home.service().respond([write_playbook(tmp_path / "p", "b", BLOCK)])
    (view,) = pending(home)
    home.denied = {"approvals.decide"}
    with pytest.raises(UsageError, match="may not"):
        home.service("mallory").approve(view.approval.id)
    assert not home.audit.entries(action="approval.approve")


def test_undo_reverts_a_succeeded_reversible_action_once(home: Home, tmp_path: Path) -> None:
    f = make_finding()
    home.store([f], [make_incident([f])])
    home.service().respond([write_playbook(tmp_path / "p", "t", TICKET)])
    (done,) = home.service().actions()
    undone = home.service("bob").undo(done.key)
    assert undone.status == "undone"
    assert home.twin.sends[-1].undo and home.twin.sends[-1].key == done.key
    with pytest.raises(UsageError, match="only a succeeded one"):
        home.service().undo(done.key)
    (entry,) = home.audit.entries(action="respond.undo")
    assert entry.actor == "bob" and entry.outcome == "ok"


def test_undo_of_a_step_that_did_not_act_is_refused(home: Home, tmp_path: Path) -> None:
    home.store([make_finding()])
    home.service().respond([write_playbook(tmp_path / "p", "b", BLOCK)])
    (view,) = pending(home)
    with pytest.raises(UsageError, match="awaiting"):
        home.service().undo(view.approval.key)


def test_a_run_whose_playbook_no_longer_loads_ends_with_an_audited_error(
    home: Home, tmp_path: Path
) -> None:
    from garrison.respond.ledger import Ledger

    home.store([make_finding()])
    home.service().respond([write_playbook(tmp_path / "p", "b", BLOCK)])
    (run,) = Ledger(home.state).open_runs()
    home.state.execute(
        "UPDATE respond_runs SET source_text = replace(source_text, 'block.ip', 'block.gone')"
    )
    home.service().respond([write_playbook(tmp_path / "q", "t", TICKET)])
    assert not Ledger(home.state).open_runs()
    (entry,) = [e for e in home.audit.entries(action="respond.run") if e.target == run.id]
    assert entry.outcome == "error:invalid-playbook" and "block.gone" in entry.details
