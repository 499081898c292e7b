"""``playbooks simulate``: a shadow replay that only reads the home and counts what would
have run, what would have waited for a human, and the assets it would have touched."""

from __future__ import annotations

from pathlib import Path

from garrison.respond.ledger import Ledger
from garrison.respond.service import BUNDLED
from tests.unit.respond.conftest import Home, make_finding, make_incident, write_playbook
from tests.unit.respond.test_engine import BLOCK, TICKET


def test_replay_counts_and_touches_nothing(home: Home, tmp_path: Path) -> None:
    findings = [
        make_finding(record=1, entities=(("ip", "203.0.113.7"),)),
        make_finding(record=2, entities=(("ip", "198.51.100.9"),), time=1_700_086_400_000),
        make_finding("sigma.x", record=3),
    ]
    home.store(findings, [make_incident(findings[:1], risk=85)])
    folder = write_playbook(tmp_path / "p", "b", BLOCK)
    write_playbook(folder, "t", TICKET)
    report = home.service().simulate([folder])
    assert report.subjects == 4
    block, ticket = sorted(report.playbooks, key=lambda p: p.playbook)
    assert block.runs == 2 and block.per_day == 2.0
    assert block.would_run == {"enrich": 2, "notify.email": 2}
    assert block.approvals == {"block.ip": 2}
    assert block.assets["ip"] == {"203.0.113.7", "198.51.100.9"}
    assert ticket.runs == 1 and ticket.would_run == {"ticket.open": 1}
    assert not home.twin.sends and not home.twin.checks
    assert not Ledger(home.state).runs(), "a simulation must not record runs in the home"
    assert not home.audit.entries()


def test_rate_limits_apply_in_the_replay(home: Home, tmp_path: Path) -> None:
    home.cfg.rate_limits = {"ticket.open": "2/1d"}
    findings = [make_finding(record=i, time=1_700_000_000_000 + i * 60_000) for i in range(5)]
    home.store(findings, [make_incident([f], uid=f"inc-{i}") for i, f in enumerate(findings)])
    report = home.service().simulate([write_playbook(tmp_path / "p", "t", TICKET)])
    (ticket,) = report.playbooks
    assert ticket.would_run == {"ticket.open": 2} and ticket.approvals == {"ticket.open": 3}


def test_the_shipped_playbooks_simulate(home: Home) -> None:
    f = make_finding("ml.ueba.spraying", entities=(("user", "bob"),), techniques=("T1110.003",))
    home.store([f], [make_incident([f], risk=90)])
    report = home.service().simulate([BUNDLED])
    runs = {p.playbook: p.runs for p in report.playbooks}
    assert runs["disable-account-credential-stuffing"] == 1
    assert runs["ticket-high-incident"] == 0  # Critical, not High
