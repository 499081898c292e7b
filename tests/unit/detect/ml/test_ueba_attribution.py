"""ml.ueba attribution: guessing and fan-out findings name what they are about.

Every targeted account, target host and source listed up to ``max_named`` (capped lists are
said to be capped), the most attempted ``max_named_entities`` (50) of each named as entities, and
the accounts that logged on from the guessing source during its burst always named.
"""

from __future__ import annotations

import pytest

from garrison.core.events import Event
from tests.unit.detect.ml.test_ueba import DAY, HOUR, MIN, T0, by, routine, run, ssh, win


def _keys(finding: object) -> set[str]:
    return {e.key() for e in finding.entities}  # type: ignore[attr-defined]


def _spray(n: int, ip: str = "10.6.6.6", start: int = T0) -> list[Event]:
    return [
        win(start + i * 20_000, f"user{i:02d}", "DC01", ok=False, ws="ATTACKER", ip=ip)
        for i in range(n)
    ]


def test_spray_lists_every_targeted_account_and_names_the_most_attempted() -> None:
    (f,) = by(run(_spray(30)), "spraying")
    assert f.explanation["targeted_accounts"] == [f"user{i:02d}" for i in range(30)]
    assert f.explanation["targeted_accounts_capped"] is False
    assert {f"user:user{i:02d}" for i in range(30)} <= _keys(f)  # all 30 (default 50)
    assert {"ip:10.6.6.6", "host:dc01"} <= _keys(f)
    assert len(f.evidences) == 10  # the evidence list stays a sample
    assert f.explanation["succeeded_accounts"] == []
    (few,) = by(run(_spray(30), max_named_entities=10), "spraying")
    assert len([e for e in few.entities if e.kind == "user"]) == 10
    assert {"ip:10.6.6.6", "host:dc01"} <= _keys(few)


def test_spray_caps_listed_accounts_and_says_so() -> None:
    (f,) = by(run(_spray(30), max_named=12), "spraying")
    assert len(f.explanation["targeted_accounts"]) == 12
    assert f.explanation["targeted_accounts_capped"] is True
    assert f.explanation["accounts"] == 30


def test_spray_names_the_accounts_that_logged_on_from_the_source() -> None:
    events = _spray(20)
    won_mid = win(T0 + 95_000, "mmiller", "DC01", ws="ATTACKER", ip="10.6.6.6")
    won_after = win(T0 + 20 * 20_000 + 10 * MIN, "pbrennan", "DC01", ws="ATTACKER", ip="10.6.6.6")
    too_late = win(T0 + 20 * 20_000 + 40 * MIN, "late", "DC01", ws="ATTACKER", ip="10.6.6.6")
    elsewhere = win(T0 + 100_000, "innocent", "DC01", ws="WS2", ip="10.1.1.1")
    (f,) = by(run([*events, won_mid, won_after, too_late, elsewhere]), "spraying")
    keys = _keys(f)
    assert {"user:mmiller", "user:pbrennan"} <= keys
    assert "user:late" not in keys and "user:innocent" not in keys
    assert f.explanation["succeeded_accounts"] == ["mmiller", "pbrennan"]
    assert f.explanation["successful_logons"] == 2
    assert f.entities[0].key() == "user:mmiller"  # the taken accounts come first
    cited = {ev.event_uid for ev in f.evidences}
    assert {won_mid.uid, won_after.uid} <= cited
    assert too_late.uid not in cited and elsewhere.uid not in cited
    assert "then logon as mmiller, pbrennan" in f.title


def test_ssh_brute_force_names_the_account_that_got_in() -> None:
    fails = [
        ssh(T0 + i * 5_000, f"Failed password for root from 1.2.3.4 port {i} ssh2")
        for i in range(15)
    ]
    ok = ssh(T0 + 16 * 5_000, "Accepted password for deploy from 1.2.3.4 port 99 ssh2")
    (f,) = by(run([*fails, ok]), "bruteforce")
    assert {"user:deploy", "user:root", "ip:1.2.3.4", "host:bastion"} <= _keys(f)
    assert ok.uid in {ev.event_uid for ev in f.evidences}


def test_fan_out_lists_every_host_reached() -> None:
    burst_time = T0 + 10 * DAY + 14 * HOUR
    burst = [
        win(burst_time + i * MIN, "bob", f"host{i:02d}", ws="ws-bob", ip="10.1.1.5")
        for i in range(24)
    ]
    fan = by(run(routine(14) + burst, max_named_entities=50), "fanout")
    assert fan
    named = set().union(*(_keys(f) for f in fan))
    assert {f"host:host{i:02d}" for i in range(24)} <= named
    listed = set().union(*(set(f.explanation["hosts"]) for f in fan))
    assert {f"host{i:02d}" for i in range(24)} <= listed
    assert all(f.explanation["hosts_capped"] is False for f in fan)


@pytest.mark.parametrize("entity_cap", [{"max_named_entities": 10}, {}])
def test_many_named_targets_do_not_make_the_source_a_correlation_hub(
    entity_cap: dict[str, int],
) -> None:
    """Sigma's value_count and ml.ueba both name a 45-account spray: one story, no hub."""
    from garrison.correlate.grouping import group_findings
    from garrison.detect.sigma import detector_from_yaml
    from garrison.triage.config import CorrelationConfig
    from tests.unit.detect.sigma.test_sigma_correlation import FAILED

    spray = """
title: Spray
correlation:
    type: value_count
    rules: [failed_logon]
    group-by: [IpAddress]
    timespan: 30m
    condition:
        field: TargetUserName
        gte: 6
"""
    events = _spray(45)
    sigma = detector_from_yaml(FAILED, spray)
    findings = sigma.observe(events) + sigma.finish()
    assert len(findings) == 7  # seven windows of six accounts each
    findings += by(run(events, **entity_cap), "spraying")
    grouping = group_findings(findings, CorrelationConfig())
    assert not grouping.hubs
    assert len(grouping.groups) == 1
