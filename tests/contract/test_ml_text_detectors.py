"""Contract for the DNS detectors (``ml.dga``, ``ml.dns_tunnel``) and for every text model
of ``TEXT_MODELS`` (dga, url, email).

Detectors are built through the registry like the pipeline does: empty runs, garbage events
and the finding shape (analytic id, ATT&CK, entities, model version, evidences that cite
events the detector was given, confidence in range). Text models are reached through
``TEXT_MODELS`` like ``garrison score`` does: load, score a batch, explain, card, train.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.core.errors import InputError, UsageError
from garrison.core.events import Event, Provenance
from garrison.core.findings import Finding
from garrison.detect import DETECTORS, DetectorContext
from garrison.detect.ml.text import TextModel, TrainRequest
from garrison.detect.ml.textmodels import TEXT_MODELS, text_model
from garrison.govern.registry.manifest import shipped_folder
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


# --- the text models: one protocol (load, score a batch, explain, train, card) ----------


#: Per model: lines that score, then lines that are invalid (each must say why).
TEXT_LINES: dict[str, tuple[list[bytes], list[bytes]]] = {
    "dga": (
        [b"example.com", b"qxzvbkpwmrtlhgf.info\n", b"example.com", b"bbc.co.uk"],
        [b"", b"\xff\xfe", b"1.2.3.4", b"x" * 2000],
    ),
    "url": (
        [b"https://example.org/", b"http://paypal-login.verify-account.tk/wp/signin.php?id=1"],
        [b"", b"\xff\xfe", b"javascript:alert(1)"],
    ),
    "email": (
        [
            json.dumps({"subject": "team lunch", "body": "see you at noon"}).encode(),
            json.dumps(
                {"id": 7, "raw": "Subject: You WON\n\nclick http://x.tk/claim to get cash now"}
            ).encode(),
        ],
        [b"", b"not json", b"[]", json.dumps({"nothing": 1}).encode()],
    ),
}


def test_every_text_model_is_covered():
    assert TEXT_MODELS.names() == sorted(TEXT_LINES) == ["dga", "email", "url"]
    for name, model in TEXT_MODELS.items():
        assert isinstance(model, TextModel) and model.name == name


@pytest.mark.parametrize("name", sorted(TEXT_LINES))
def test_text_model_scores_a_batch(name):
    text = text_model(name)
    model = text.load()
    good, bad = TEXT_LINES[name]
    lines = [*good, *bad]
    out = text.score_batch(model, lines)
    assert len(out) == len(lines) and text.batch > 0
    for row in out:
        assert set(row) == {"input", "score", "verdict", "explanation"}
        json.dumps(row)  # JSON-ready
    for row in out[: len(good)]:
        assert row["verdict"] in ("malicious", "benign")
        assert 0.0 <= row["score"] <= 1.0
        assert row["explanation"]["model_version"] == model.version
    for row in out[len(good) :]:
        assert row["verdict"] == "invalid" and row["score"] is None
        assert row["explanation"]["reason"]
    assert text.score_batch(model, []) == []
    quiet = text.score_batch(model, good, explain=False, threshold=0.0)
    assert all(r["verdict"] == "malicious" for r in quiet)


@pytest.mark.parametrize("name", sorted(TEXT_LINES))
def test_text_model_explains_every_line(name):
    text = text_model(name)
    model = text.load()
    good, bad = TEXT_LINES[name]
    notes = text.explain(model, [*good, *bad])
    assert len(notes) == len(good) + len(bad)
    for note in notes[: len(good)]:
        assert note["model_version"] == model.version
        assert note.get("attribution") != "computed for malicious verdicts only"
    assert all(note["reason"] for note in notes[len(good) :])


@pytest.mark.parametrize("name", sorted(TEXT_LINES))
def test_text_model_card_describes_the_shipped_artefact(name):
    text = text_model(name)
    card = text.card()
    path = shipped_folder() / f"{name}.skops"
    assert card["name"] == name and card["version"] == text.load().version
    assert card["file"] == path.name
    assert card["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert card["trusted_types"] == text.trusted_types()
    assert card["threshold"] == pytest.approx(text.load().threshold)


@pytest.mark.parametrize("name", sorted(TEXT_LINES))
def test_text_model_load_refuses_missing_and_unregistered_files(name, tmp_path, home):
    text = text_model(name)
    with pytest.raises(InputError, match="not found"):
        text.load(tmp_path / f"{name}.skops", home)
    copy = tmp_path / f"{name}.skops"
    shutil.copy(shipped_folder() / f"{name}.skops", copy)
    with pytest.raises(InputError, match="matches no signed entry"):
        text.load(copy, home)


@pytest.mark.parametrize("name", sorted(TEXT_LINES))
def test_text_model_train_refuses_unusable_data(name, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises((InputError, UsageError)):
        text_model(name).train(TrainRequest(empty, tmp_path / "out"))


def test_unknown_text_model_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown model 'nope' \\(known: dga, email, url\\)"):
        text_model("nope")


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(
        st.one_of(st.binary(max_size=120), st.text(max_size=120).map(str.encode)),
        max_size=12,
    )
)
def test_property_one_result_per_line_for_every_text_model(lines):
    for name in sorted(TEXT_LINES):
        text = text_model(name)
        out = text.score_batch(text.load(), lines)
        assert len(out) == len(lines)
        assert all(r["verdict"] in ("malicious", "benign", "invalid") for r in out)
