"""Sigma correlation rules: event_count, value_count, temporal, temporal_ordered."""

from __future__ import annotations

from typing import Any

from garrison.core.events import Event, Provenance
from garrison.detect.sigma import detector_from_yaml

FAILED = """
title: Failed logon
id: 66666666-0000-0000-0000-000000000001
name: failed_logon
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4625
    condition: selection
---
title: Successful logon
id: 66666666-0000-0000-0000-000000000002
name: success_logon
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4624
    condition: selection
"""

T0 = 1_700_000_000_000


def logon(n: int, eid: int, t_s: float, user: str = "bob", ip: str = "10.0.0.5") -> Event:
    fields = {
        "Channel": "Security",
        "EventID": eid,
        "TargetUserName": user,
        "IpAddress": ip,
        "Computer": "DC1",
    }
    return Event(
        f"e{n}",
        3002,
        T0 + int(t_s * 1000),
        {"class_uid": 3002},
        fields,
        "{}",
        Provenance("sec.evtx", "evtx", n, "fp", 0),
    )


def run(correlation: str, events: list[Event], **opts: Any) -> tuple[list[Any], Any]:
    det = detector_from_yaml(FAILED, correlation, options=opts)
    assert not det.ruleset.errors, det.ruleset.errors
    out = det.observe(events)
    out += det.finish()
    return out, det


BRUTE = """
title: Brute force
id: 77777777-0000-0000-0000-000000000001
level: high
correlation:
    type: event_count
    rules:
        - failed_logon
    group-by:
        - TargetUserName
    timespan: 5m
    condition:
        gte: 3
"""


def test_event_count_fires_once_per_burst_and_group() -> None:
    events = [logon(i, 4625, i * 10) for i in range(5)]  # bob: 5 failures in 40 s
    events += [logon(10 + i, 4625, i * 10, user="amy") for i in range(2)]  # amy: 2
    findings, det = run(BRUTE, events)
    corr = [f for f in findings if f.analytic_type == "correlation"]
    assert len(corr) == 1
    (hit,) = corr
    assert hit.analytic_uid == "77777777-0000-0000-0000-000000000001"
    assert hit.explanation["group"] == {"TargetUserName": "bob"}
    assert hit.count == 3 and hit.time == T0
    # base rule referenced by a non-generating correlation: no findings of its own
    assert all(f.analytic_type == "correlation" for f in findings)
    assert det.match_counts["66666666-0000-0000-0000-000000000001"] == 7


def test_event_count_respects_timespan() -> None:
    events = [logon(i, 4625, i * 200) for i in range(5)]  # one every 200 s, span 300 s
    findings, _ = run(BRUTE, events)
    assert findings == []


def test_out_of_order_input_is_sorted() -> None:
    events = [logon(i, 4625, t) for i, t in enumerate([100, 0, 50])]
    findings, _ = run(BRUTE, events)
    assert len(findings) == 1 and findings[0].time == T0


def test_generate_true_keeps_base_findings() -> None:
    rule = BRUTE.replace("    type: event_count", "    type: event_count\n    generate: true")
    findings, _ = run(rule, [logon(i, 4625, i) for i in range(3)])
    assert {f.analytic_type for f in findings} == {"rule", "correlation"}


def test_value_count() -> None:
    spray = """
title: Password spray
correlation:
    type: value_count
    rules:
        - failed_logon
    group-by:
        - IpAddress
    timespan: 10m
    condition:
        field: TargetUserName
        gte: 3
"""
    same_user = [logon(i, 4625, i) for i in range(6)]
    assert run(spray, same_user)[0] == []
    many = [logon(i, 4625, i, user=f"u{i}") for i in range(4)]
    (hit,) = run(spray, many)[0]
    assert hit.explanation["measured"] == 3.0


def test_temporal() -> None:
    both = """
title: Failure then success
correlation:
    type: temporal
    rules:
        - failed_logon
        - success_logon
    group-by:
        - TargetUserName
    timespan: 1m
"""
    assert len(run(both, [logon(1, 4624, 0), logon(2, 4625, 10)])[0]) == 1
    assert run(both, [logon(1, 4625, 0), logon(2, 4624, 120)])[0] == []
    assert run(both, [logon(1, 4625, 0), logon(2, 4624, 5, user="amy")])[0] == []


def test_temporal_ordered() -> None:
    ordered = """
title: Failure then success, in order
correlation:
    type: temporal_ordered
    rules:
        - failed_logon
        - success_logon
    group-by:
        - TargetUserName
    timespan: 1m
"""
    assert len(run(ordered, [logon(1, 4625, 0), logon(2, 4624, 10)])[0]) == 1
    assert run(ordered, [logon(1, 4624, 0), logon(2, 4625, 10)])[0] == []


def test_aliases_group_across_rules() -> None:
    aliased = """
title: Same account
correlation:
    type: temporal
    rules:
        - failed_logon
        - success_logon
    aliases:
        account:
            failed_logon: TargetUserName
            success_logon: TargetUserName
    group-by:
        - account
    timespan: 1m
"""
    (hit,) = run(aliased, [logon(1, 4625, 0), logon(2, 4624, 1)])[0]
    assert hit.explanation["group"] == {"account": "bob"}


def test_unknown_rule_reference_is_reported() -> None:
    bad = BRUTE.replace("- failed_logon", "- no_such_rule")
    det = detector_from_yaml(FAILED, bad)
    assert any("no_such_rule" in reason for reason in det.ruleset.errors.values())


# --- attribution: correlation findings name what they aggregate over -------------------

SPRAY = """
title: Password spray
level: high
correlation:
    type: value_count
    rules:
        - failed_logon
    group-by:
        - IpAddress
    timespan: 10m
    condition:
        field: TargetUserName
        gte: 5
"""


def _keys(finding: Any) -> list[str]:
    return [e.key() for e in finding.entities]


def test_value_count_names_group_and_every_counted_value() -> None:
    events = [logon(i, 4625, i, user=f"User{i}", ip="10.9.8.7") for i in range(5)]
    (hit,) = run(SPRAY, events, max_evidences=2)[0]
    keys = _keys(hit)
    assert keys[0] == "ip:10.9.8.7"  # the group-by value comes first
    # every counted account is named, although only two events are evidences
    assert {f"user:user{i}" for i in range(5)} <= set(keys)
    assert len(hit.evidences) == 2 and hit.count == 5
    assert {ev.event_uid for ev in hit.evidences} <= {e.uid for e in events}
    counted = hit.explanation["counted"]
    assert counted == {
        "field": "TargetUserName",
        "distinct": 5,
        "values": [f"user{i}" for i in range(5)],  # as the engine reads them
        "capped": False,
    }
    assert hit.explanation["group_entities"] == {"IpAddress": "ip:10.9.8.7"}
    assert "IpAddress=10.9.8.7" in hit.explanation["summary"]
    assert "user4" in hit.explanation["summary"]


def test_value_count_caps_named_values_and_says_so() -> None:
    from garrison.detect.sigma.detector import MAX_NAMED_VALUES

    many = MAX_NAMED_VALUES + 7
    rule = SPRAY.replace("gte: 5", f"gte: {many}")
    events = [logon(i, 4625, i, user=f"u{i:03d}") for i in range(many)]
    (hit,) = run(rule, events)[0]
    counted = hit.explanation["counted"]
    assert counted["distinct"] == many and counted["capped"] is True
    assert len(counted["values"]) == MAX_NAMED_VALUES
    users = [k for k in _keys(hit) if k.startswith("user:")]
    assert len(users) == MAX_NAMED_VALUES
    assert "and 7 more" in hit.explanation["summary"]


def test_event_count_names_every_group_by_value() -> None:
    rule = BRUTE.replace(
        "- TargetUserName", "- TargetUserName\n        - IpAddress\n        - Computer"
    )
    events = [logon(i, 4625, i, user="CORP\\Alice", ip="192.0.2.9") for i in range(3)]
    (hit,) = run(rule, events)[0]
    assert hit.explanation["group_entities"] == {
        "TargetUserName": "user:alice",
        "IpAddress": "ip:192.0.2.9",
        "Computer": "host:dc1",
    }
    assert _keys(hit)[:3] == ["user:alice", "ip:192.0.2.9", "host:dc1"]
    assert "counted" not in hit.explanation


def test_group_values_naming_nobody_are_not_entities() -> None:
    events = [logon(i, 4625, i, user="-", ip="-") for i in range(3)]
    rule = BRUTE.replace("- TargetUserName", "- TargetUserName\n        - IpAddress")
    (hit,) = run(rule, events)[0]
    assert hit.explanation["group_entities"] == {}
    assert not any(k in ("user:-", "ip:-") for k in _keys(hit))


def test_temporal_names_group_by_values() -> None:
    rule = """
title: Failure then success
correlation:
    type: temporal
    rules:
        - failed_logon
        - success_logon
    group-by:
        - TargetUserName
    timespan: 5m
"""
    events = [logon(1, 4625, 0, user="carol"), logon(2, 4624, 10, user="carol")]
    (hit,) = run(rule, events)[0]
    assert "user:carol" in _keys(hit)
    assert hit.explanation["group_entities"] == {"TargetUserName": "user:carol"}


def test_field_kinds() -> None:
    from garrison.detect.sigma.correlation import field_entity, field_kind

    assert field_kind("TargetUserName") == "user"
    assert field_kind("id.orig_h") == "ip"
    assert field_kind("user.name") == "user"
    assert field_kind("host.name") == "host"
    assert field_kind("WorkstationName") == "host"
    assert field_kind("CommandLine") is None
    # an address is an address whatever the field is called; unknown fields name nobody
    assert field_entity("Whatever", "2001:db8::1") is not None
    assert field_entity("CommandLine", "whoami") is None
    assert field_entity("Computer", "WS1.corp.example").key() == "host:ws1"
