"""Grouping findings into incidents: windows, pairs, hubs, lateral bridges, span cuts."""

from collections import Counter

from garrison.core.attack import attack_of
from garrison.core.entities import Entity
from garrison.core.findings import Evidence, Finding
from garrison.correlate.grouping import group_findings
from garrison.correlate.service import AlertPipeline
from garrison.correlate.synthetic import generate
from garrison.triage.config import CorrelationConfig, TriageConfig
from garrison.triage.service import TriageService

MIN = 60_000
HOUR = 60 * MIN
T0 = 1_740_000_000_000


def _f(i, t, *entities, sev=3, technique=""):
    return Finding(
        analytic_uid=f"r{i}",
        analytic_name=f"r{i}",
        title=f"r{i}",
        time=t,
        severity_id=sev,
        confidence=80,
        evidences=[Evidence("a.log", i, f"e{i}", t)],
        attacks=[attack_of(technique)] if technique else [],
        entities=[Entity(k, v) for k, v in entities],
        uid=f"f{i}",
    )


def _groups(findings, **cfg):
    grouping = group_findings(findings, CorrelationConfig(**cfg))
    return sorted(sorted(findings[i].uid for i in g) for g in grouping.groups), grouping


def test_shared_entity_joins_within_the_short_window_only():
    findings = [
        _f(1, T0, ("host", "ws1")),
        _f(2, T0 + 3 * HOUR, ("host", "ws1")),
        _f(3, T0 + 9 * HOUR, ("host", "ws1")),
        _f(4, T0 + HOUR, ("host", "ws2")),
    ]
    groups, _ = _groups(findings, short_window_ms=4 * HOUR)
    assert groups == [["f1", "f2"], ["f3"], ["f4"]]


def test_serious_findings_and_shared_pairs_join_across_the_long_window():
    findings = [
        _f(1, T0, ("host", "fs01"), sev=4),
        _f(2, T0 + 20 * HOUR, ("host", "fs01"), sev=5),  # both serious: joined
        _f(3, T0 + 1 * HOUR, ("host", "ws1"), ("user", "al")),
        _f(4, T0 + 18 * HOUR, ("host", "ws1"), ("user", "al")),  # same user on same host
        _f(5, T0 + 12 * HOUR, ("host", "fs01"), ("user", "admin")),  # low, alone on fs01
    ]
    groups, _ = _groups(findings, short_window_ms=4 * HOUR, window_ms=24 * HOUR)
    assert groups == [["f1", "f2"], ["f3", "f4"], ["f5"]]


def test_a_domain_controller_next_to_every_user_is_a_hub():
    findings = []
    for u in range(12):
        # each user's workstation has two findings of its own, and one names the DC too
        findings.append(_f(3 * u, T0 + u * MIN, ("host", f"ws{u}"), ("user", f"u{u}")))
        findings.append(_f(3 * u + 1, T0 + u * MIN + 1, ("host", f"ws{u}"), ("host", "dc01")))
    groups, grouping = _groups(findings, hub_fanout=10, lateral_bridge_ms=0)
    assert Entity("host", "dc01") in grouping.hubs
    assert len(groups) == 12 and all(len(g) == 2 for g in groups)


def test_a_crowd_of_targets_does_not_make_its_source_a_hub():
    """Two findings about one spray both name its 45 targets: the source is not a hub."""
    targets = [("user", f"user{i:02d}") for i in range(45)]
    attacker = [("ip", "10.6.6.6"), ("host", "ws-attacker")]
    findings = [
        _f(1, T0, *attacker, *targets, sev=4),  # the Sigma value_count
        _f(2, T0 + MIN, *attacker, *targets, sev=4),  # the UEBA spraying finding
        _f(3, T0 + 30 * MIN, ("host", "ws-attacker"), ("user", "mallory")),  # next step
    ]
    groups, grouping = _groups(findings, hub_fanout=40, max_per_kind=3)
    assert not grouping.hubs
    assert groups == [["f1", "f2", "f3"]]


def test_a_real_hub_is_still_found_when_crowds_are_left_out():
    """Crowds are left out of the hub count, not the hub rule: a DC beside many one-user
    findings is still a hub, even when a spray's crowd names it too."""
    findings = [_f(100, T0, ("host", "dc01"), *[("user", f"u{u}") for u in range(12)])]
    for u in range(12):
        findings.append(_f(3 * u, T0 + u * MIN, ("host", f"ws{u}"), ("user", f"u{u}")))
        findings.append(_f(3 * u + 1, T0 + u * MIN + 1, ("host", f"ws{u}"), ("host", "dc01")))
    _, grouping = _groups(findings, hub_fanout=10, lateral_bridge_ms=0)
    assert Entity("host", "dc01") in grouping.hubs


def test_a_common_binary_hash_does_not_glue_hosts():
    findings = [_f(i, T0 + i * MIN, ("host", f"ws{i}"), ("hash", "cmdexe")) for i in range(6)] + [
        _f(10, T0, ("host", "ws0"), ("hash", "rare")),
        _f(11, T0 + 2 * MIN, ("host", "ws9"), ("hash", "rare")),
    ]
    groups, grouping = _groups(findings, spread_max_hosts=3, lateral_bridge_ms=0)
    assert grouping.hubs[Entity("hash", "cmdexe")] == "on 4 hosts"
    assert ["f0", "f10", "f11"] in groups  # the rare hash still links ws0 and ws9
    assert len(groups) == 6


def test_lateral_movement_bridges_source_and_target_hosts():
    findings = [
        _f(1, T0, ("host", "ws1"), ("user", "al"), technique="T1021.002"),
        _f(2, T0 + 2_000, ("host", "fs01")),  # service installed on the target, as SYSTEM
        _f(3, T0 + 10 * MIN, ("host", "app01")),  # too late to be the same hop
    ]
    groups, _ = _groups(findings, lateral_bridge_ms=15_000)
    assert groups == [["f1", "f2"], ["f3"]]
    groups, _ = _groups(findings, lateral_bridge_ms=0)
    assert groups == [["f1"], ["f2"], ["f3"]]


def test_long_chains_are_cut_at_the_maximum_span():
    findings = [_f(i, T0 + i * 3 * HOUR, ("host", "ws1"), ("user", "al")) for i in range(40)]
    groups, _ = _groups(findings, max_span_ms=24 * HOUR)
    assert len(groups) == 5 and max(len(g) for g in groups) <= 9


def test_synthetic_attacks_rank_on_top_without_a_giant_incident():
    scenario = generate(6000, n_users=240, n_chains=3, seed=11)
    cfg = TriageConfig()
    pipeline = AlertPipeline(cfg, TriageService(cfg))
    findings, incidents = pipeline.process(scenario.findings)
    raw = sum(f.count for f in findings)
    assert raw / len(incidents) >= 20
    sizes = Counter(len(i.finding_uids) for i in incidents)
    assert max(sizes) < 0.05 * len(findings)
    for chain in scenario.chains:
        homes = [i for i in incidents if set(chain["entities"]) <= {e.key() for e in i.entities}]
        assert homes and homes[0].band in ("High", "Critical"), chain
    top = incidents[: len(scenario.chains)]
    assert all(any(u.startswith("atk-") for u in i.finding_uids) for i in top)
