import json

from garrison.core.config import GarrisonConfig, HuntConfig
from garrison.outputs import write_outputs
from garrison.pipeline import HuntService
from garrison.store import MemoryEventStore, ParquetEventStore, StateDB
from tests.support import WordDetector, write_kv


def _service(home, store=None, batch_size=3, detectors=None):
    cfg = GarrisonConfig(home=home, hunt=HuntConfig(batch_size=batch_size))
    state = StateDB(home / "state.db")
    store = store or ParquetEventStore(home / "lake", state)
    return HuntService(cfg, store, state, detectors=detectors or [WordDetector()])


def test_every_record_is_stored_or_quarantined(tmp_path, home):
    f = write_kv(
        tmp_path / "a.log",
        [
            "t=1 user=alice host=ws1",
            "garbage",
            "t=3 user=bob host=ws2 cmd=evil",
            "t=4 user=bob host=ws2",
        ],
    )
    report = _service(home).run([str(f)])
    total = report.total()
    assert (total.records_read, total.events_stored, total.records_quarantined) == (4, 3, 1)
    q = report.quarantine[0]
    assert (q.source_path, q.position, q.reason) == (str(f), 3, "no t= timestamp")
    assert len(report.findings) == 1
    ev = report.findings[0].evidences[0]
    assert (ev.source_path, ev.record_id) == (str(f), 4)


def test_reingesting_does_not_duplicate(tmp_path, home):
    f = write_kv(tmp_path / "a.log", [f"t={i} user=u{i % 3}" for i in range(10)])
    copy = write_kv(tmp_path / "copy.log", [f"t={i} user=u{i % 3}" for i in range(10)])
    svc = _service(home)
    first = svc.run([str(f)])
    second = svc.run([str(f), str(copy)])
    assert first.total().events_new == 10
    assert second.total().events_new == 0
    assert second.total().events_stored == 20  # accounted as stored (already present)
    assert svc.store.count() == 10
    assert svc.store.sql("SELECT count(DISTINCT uid), count(*) FROM events") == [(10, 10)]


def test_same_content_twice_in_one_run_is_detected_once(tmp_path, home):
    lines = ["t=5 user=a cmd=evil"]
    a, b = write_kv(tmp_path / "a.log", lines), write_kv(tmp_path / "b.log", lines)
    det = WordDetector()
    report = _service(home, detectors=[det]).run([str(a), str(b)])
    assert len(report.findings) == 1 and det.seen == 1


def test_missing_and_unreadable_inputs_are_reported_not_fatal(tmp_path, home):
    good = write_kv(tmp_path / "good.log", ["t=1 user=a"])
    report = _service(home).run([str(tmp_path / "missing.log"), str(good)])
    assert [p.display for p in report.files_failed] == [str(tmp_path / "missing.log")]
    assert report.total().events_stored == 1


def test_unknown_and_empty_files_are_accounted(tmp_path, home):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "empty.bin").write_bytes(b"")
    (inputs / "junk.bin").write_bytes(b"\x00\xff\xfe garbage")
    report = _service(home).run([str(inputs)])
    total = report.total()
    assert total.records_read == total.events_stored + total.records_quarantined == 1
    assert "unrecognised format" in report.quarantine[0].reason


def test_memory_store_twin_behaves_like_parquet(tmp_path, home):
    f = write_kv(tmp_path / "a.log", [f"t={i} host=h{i % 2}" for i in range(7)])
    mem = _service(home, store=MemoryEventStore())
    mem.run([str(f)])
    mem.run([str(f)])
    assert mem.store.count() == 7
    rows = mem.store.sql("SELECT host, count(*) FROM events GROUP BY host ORDER BY host")
    assert rows == [("h0", 4), ("h1", 3)]


def test_outputs_follow_the_contract(tmp_path, home):
    f = write_kv(
        tmp_path / "a.log",
        ["t=1000 user=alice host=ws1 cmd=evil", "bad", "t=2000 user=alice host=ws1 cmd=evil2"],
    )
    report = _service(home).run([str(f)])
    summary = write_outputs(report, tmp_path / "out")
    for key in (
        "records_read",
        "events_stored",
        "records_quarantined",
        "findings",
        "incidents",
        "rules_loaded",
        "rules_failed",
        "seconds",
        "per_source",
    ):
        assert key in summary
    assert summary["records_read"] == summary["events_stored"] + summary["records_quarantined"]
    findings = [json.loads(line) for line in (tmp_path / "out/findings.jsonl").open()]
    incidents = [json.loads(line) for line in (tmp_path / "out/incidents.jsonl").open()]
    quarantine = [json.loads(line) for line in (tmp_path / "out/quarantine.jsonl").open()]
    # the two hits of one analytic on the same entities are deduplicated into one finding
    assert len(findings) == 1 and len(quarantine) == 1
    assert findings[0]["count"] == 2
    assert sorted(e["data"]["record_id"] for e in findings[0]["evidences"]) == [2, 4]
    assert len(incidents) == 1  # same user and host within the window
    assert {i["uid"] for i in incidents[0]["finding_info_list"]} == {
        f["finding_info"]["uid"] for f in findings
    }
    assert all(0 <= f["risk_score"] <= 100 for f in findings)


def test_detector_crash_is_reported_not_fatal(tmp_path, home):
    class Boom(WordDetector):
        id = "test.boom"

        def observe(self, events):
            raise RuntimeError("kaput")

    f = write_kv(tmp_path / "a.log", ["t=1 cmd=evil"])
    report = _service(home, detectors=[Boom(), WordDetector()]).run([str(f)])
    assert "kaput" in report.detector_errors["test.boom"]
    assert len(report.findings) == 1


def test_undecodable_text_is_stored_not_fatal(home):
    from garrison.core.events import Event, Provenance

    store = ParquetEventStore(home / "lake", StateDB(home / "state.db"))
    bad = "caf\udce9 \ud800"
    ev = Event(
        "u1", 0, 1, {"device": {"hostname": bad}}, {"k": bad}, bad, Provenance("f", "x", 1, "fp", 0)
    )
    assert store.write_batch("fp", "x", "f", [ev]) == 1
    ((raw, host, fields),) = store.sql("SELECT raw, host, fields FROM events")
    assert "\\xe9" in raw and "caf" in host and "\\udce9" in fields


def test_records_of_a_format_without_normalizer_are_quarantined_not_fatal():
    from garrison.core.events import RawRecord
    from garrison.ingest.reader import Batch
    from garrison.pipeline import build_events

    batch = Batch("no-such-format", "x.log", "fp", records=[RawRecord(1, {"a": 1}, "a=1")])
    events, rejected = build_events(batch, 0)
    assert events == [] and len(rejected) == 1
    assert "unknown normalizer 'no-such-format'" in rejected[0].reason
    assert rejected[0].position == 1 and rejected[0].excerpt == "a=1"
