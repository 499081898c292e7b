"""Contract for the DNS detectors (``ml.dga``, ``ml.dns_tunnel``).

Built through the registry like the pipeline does: empty runs, garbage events and the
finding shape (analytic id, ATT&CK, entities, model version, evidences that cite events the
detector was given, confidence in range).
"""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.core.events import Event, Provenance
from garrison.core.findings import Finding
from garrison.detect import DETECTORS, DetectorContext
from garrison.store import MemoryEventStore, StateDB

NAMES = ["ml.dga", "ml.dns_tunnel"]
T0 = 1_650_000_000_000


def _ctx(home: Path, options: dict | None = None) -> DetectorContext:
    return DetectorContext(
        home=home, state=StateDB.memory(), store=MemoryEventStore(), options=options or {}
    )


def _ev(i: int, ocsf: object, fields: object) -> Event:
    return Event(f"c{i}", 4003, T0 + i, ocsf, fields, "", Provenance("c.log", "zeek", i, "f", 0))  # type: ignore[arg-type]


def _check(findings: list[Finding], given_events: list[Event], detector_id: str) -> None:
    uids = {e.uid for e in given_events}
    for f in findings:
        assert isinstance(f, Finding)
        assert f.analytic_uid.startswith(detector_id)
        assert f.title and f.analytic_type == "ml" and f.model_version
        assert 0 <= f.confidence <= 100 and 1 <= f.severity_id <= 5
        assert f.attacks and all(a.technique_uid.startswith("T") for a in f.attacks)
        assert f.evidences, "a finding must cite its events"
        for ev in f.evidences:
            assert ev.event_uid in uids
            assert (ev.source_path, ev.record_id) == ("c.log", int(ev.event_uid[1:]))
        assert f.to_ocsf()["finding_info"]["analytic"]["uid"] == f.analytic_uid


@pytest.mark.parametrize("name", NAMES)
def test_empty(name, tmp_path):
    det = DETECTORS.get(name)(_ctx(tmp_path))
    assert det is not None and det.id == name
    assert det.observe([]) == []
    assert det.finish() == []
    assert isinstance(det.stats(), dict)


GARBAGE = [
    _ev(1, {}, {}),
    _ev(2, None, None),
    _ev(3, "text", ["list"]),
    _ev(4, {"query": None}, {"query": 12}),
    _ev(5, {"query": {"hostname": ["a"]}}, {"query": {"x": 1}}),
    _ev(6, {"query": {"hostname": "\x00\xff" * 50}, "rcode_id": "3"}, {}),
    _ev(7, {"query": {"hostname": "x" * 10_000}, "src_endpoint": "oops"}, {}),
    _ev(8, {"query": {"hostname": "xn--zz.com"}, "rcode": 3, "answers": 5}, {}),
    _ev(9, {}, {"query": "..", "id.orig_h": "not-an-ip", "answers": "-"}),
    _ev(10, {"http_request": {"url": {"hostname": "[::1]:80"}}}, {"server_name": 4}),
    _ev(11, {"query": {"hostname": "\uff21\uff22\uff23.com"}}, {}),
]


@pytest.mark.parametrize("name", NAMES)
def test_garbage(name, tmp_path):
    det = DETECTORS.get(name)(_ctx(tmp_path))
    out = det.observe(GARBAGE) + det.finish()
    _check(out, GARBAGE, name)


def _attack_events() -> list[Event]:
    rng = random.Random(1)
    events = []
    for i in range(60):
        label = "".join(rng.choice(string.ascii_lowercase) for _ in range(18))
        events.append(
            _ev(
                100 + i,
                {
                    "query": {"hostname": f"{label}.info"},
                    "rcode": "NXDOMAIN",
                    "src_endpoint": {"ip": "10.9.9.9"},
                },
                {},
            )
        )
    for i in range(60):
        data = rng.randbytes(30).hex()
        events.append(
            _ev(
                300 + i,
                {},
                {
                    "query": f"{data}.exfil-example.org",
                    "qtype_name": "TXT",
                    "id.orig_h": "10.8.8.8",
                },
            )
        )
    return events


@pytest.mark.parametrize("name", NAMES)
def test_findings_point_at_real_events(name, tmp_path):
    det = DETECTORS.get(name)(_ctx(tmp_path))
    events = _attack_events()
    out = det.observe(events[:70]) + det.observe(events[70:]) + det.finish()
    assert out, f"{name} should fire on its own attack pattern"
    _check(out, events, name)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "q": st.one_of(
                    st.none(),
                    st.text(max_size=70),
                    st.integers(),
                    st.from_regex(r"[a-z0-9]{1,30}\.(com|net|xyz)", fullmatch=True),
                ),
                "rcode": st.sampled_from([None, "NXDOMAIN", "NOERROR", 3, "x"]),
                "ip": st.one_of(st.none(), st.ip_addresses().map(str), st.text(max_size=10)),
            }
        ),
        max_size=30,
    )
)
def test_property_any_dns_events(tmp_path, rows):
    events = [
        _ev(
            i,
            {"query": {"hostname": r["q"]}, "rcode": r["rcode"], "src_endpoint": {"ip": r["ip"]}},
            {"query": r["q"]},
        )
        for i, r in enumerate(rows)
    ]
    for name in NAMES:
        det = DETECTORS.get(name)(
            _ctx(
                tmp_path,
                {"burst_min": 2}
                if name == "ml.dga"
                else {"min_queries": 1, "min_unique": 1, "threshold": 0.0},
            )
        )
        _check(det.observe(events) + det.finish(), events, name)
