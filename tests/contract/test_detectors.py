"""One contract for every registered detector.

Each factory gets a fresh context; a detector must take empty and hostile batches without
raising, return Findings whose evidences point at events it was given, and scores in range.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.content import bundled_rules_dir
from garrison.core.events import Event, Provenance
from garrison.core.findings import Finding
from garrison.detect import DETECTORS, DetectorContext
from garrison.store import MemoryEventStore, StateDB

NAMES = DETECTORS.names()


def _context(home: Path) -> DetectorContext:
    return DetectorContext(
        home=home,
        state=StateDB.memory(),
        store=MemoryEventStore(),
        rules_dirs=[bundled_rules_dir()],
        # so that the intel detector runs too (it stays off without intel files)
        intel_files=[Path(__file__).parents[1] / "golden" / "intel" / "bundle.json"],
    )


def _event(i: int, ocsf: dict, fields: dict, class_uid: int = 0) -> Event:
    prov = Provenance("contract.log", "jsonl", i, "fp", 0)
    return Event(f"uid{i}", class_uid, 1_600_000_000_000 + i * 1000, ocsf, fields, "{}", prov)


HOSTILE = [
    _event(1, {}, {}),
    _event(2, {"class_uid": 4003, "query": {"hostname": None}}, {"query": None}, 4003),
    _event(3, {"class_uid": 4003, "query": {"hostname": "x" * 5000}}, {"query": "\x00" * 10}, 4003),
    _event(
        4,
        {"class_uid": 3002, "user": {"name": 42}, "src_endpoint": {"ip": "not-an-ip"}},
        {"EventID": "not-an-int", "Channel": None},
        3002,
    ),
    _event(
        5,
        {"class_uid": 4001, "src_endpoint": "oops", "dst_endpoint": [1, 2]},
        {"id.orig_h": "1.2.3.4", "ts": "nan"},
        4001,
    ),
    _event(
        6,
        {"class_uid": 1007, "process": {"cmd_line": "\u202e" * 100}},
        {
            "EventID": 1,
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "CommandLine": "powershell -enc " + "A" * 10000,
            "Image": None,
        },
        1007,
    ),
]


def _check(findings: list[Finding], given: list[Event]) -> None:
    uids = {e.uid for e in given}
    for f in findings:
        assert isinstance(f, Finding)
        assert f.analytic_uid and f.title
        assert 0 <= f.confidence <= 100 and 0 <= f.severity_id <= 5
        for ev in f.evidences:
            if ev.event_uid:
                assert ev.event_uid in uids, f"{f.analytic_uid} cites an unknown event"


@pytest.mark.parametrize("name", NAMES)
def test_empty_run(name: str, tmp_path: Path) -> None:
    det = DETECTORS.get(name)(_context(tmp_path))
    if det is None:
        pytest.skip(f"{name} has nothing to do without configuration")
    assert det.observe([]) == []
    _check(det.finish(), [])
    assert isinstance(det.stats(), dict)


@pytest.mark.parametrize("name", NAMES)
def test_hostile_events_never_raise(name: str, tmp_path: Path) -> None:
    det = DETECTORS.get(name)(_context(tmp_path))
    if det is None:
        pytest.skip(f"{name} has nothing to do without configuration")
    out = det.observe(HOSTILE)
    out += det.finish()
    _check(out, HOSTILE)
