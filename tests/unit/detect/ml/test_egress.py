"""ml.egress: what counts as an outbound transfer, when a bucket is reported, baselines
between runs, bounded state, and what the finding says."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.core.events import CLASS_HTTP_ACTIVITY, CLASS_NETWORK_ACTIVITY, Event, Provenance
from garrison.detect.ml.egress import EgressConfig, EgressDetector, transfer_of
from garrison.detect.ml.egress.report import human_bytes
from garrison.store import StateDB

DAY = 86_400_000
HOUR = 3_600_000
T0 = 1_740_873_600_000  # 2025-03-02 00:00 UTC
MB = 1_000_000
_ids = itertools.count(1)


def flow(
    t: int,
    src: str = "10.0.0.5",
    dst: str = "93.184.216.34",
    out: int | None = 1000,
    back: int | None = 1000,
    port: int = 22,
    batch: str = "b1",
    cls: int = CLASS_NETWORK_ACTIVITY,
    **extra: object,
) -> Event:
    fields: dict[str, object] = {
        "id.orig_h": src,
        "id.resp_h": dst,
        "id.resp_p": port,
        "proto": "tcp",
    }
    if out is not None:
        fields["orig_bytes"] = out
    if back is not None:
        fields["resp_bytes"] = back
    fields.update(extra)
    i = next(_ids)
    prov = Provenance("conn.log", "zeek", i, batch, 0)
    return Event(f"e{i}", cls, t, {}, fields, "", prov)


def background(days: int, hosts: int = 8, start: int = T0, batch: str = "bg") -> list[Event]:
    """Every host uploads a little to a few shared services each day (its normal)."""
    events = []
    for d in range(days):
        for h in range(hosts):
            for k in range(3):
                events.append(
                    flow(
                        start + d * DAY + (9 + k) * HOUR + h * 60_000,
                        src=f"10.0.0.{10 + h}",
                        dst=f"52.96.10.{k + 1}",
                        out=200_000 + 10_000 * h,
                        back=2 * MB,
                        port=443,
                        batch=batch,
                    )
                )
    return events


def run(
    events: list[Event], state: StateDB | None = None, **options: object
) -> tuple[list, EgressDetector]:
    det = EgressDetector(EgressConfig(**options), state)
    det.observe(events)
    return det.finish(), det


def exfil(day: int, total: int = 3 * 10**9, parts: int = 4, **kw: object) -> list[Event]:
    return [
        flow(
            T0 + day * DAY + 12 * HOUR + i * 1000,
            src="10.0.0.10",
            out=total // parts,
            back=total // 1000 // parts,
            dst="185.12.7.66" if "dst" not in kw else str(kw["dst"]),
            batch=str(kw.get("batch", "x")),
        )
        for i in range(parts)
    ]


# -- reading transfers ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "src", "dst", "outbound"),
    [
        ({}, "10.0.0.5", "8.8.4.4", True),  # private to global, no flags
        ({}, "8.8.4.4", "10.0.0.5", False),  # inbound
        ({}, "10.0.0.5", "10.0.0.6", False),  # internal
        ({}, "10.0.0.5", "224.0.0.251", False),  # multicast
        ({"local_orig": "T", "local_resp": "F"}, "147.32.83.234", "8.8.4.4", True),  # flags win
        ({"local_orig": "F", "local_resp": "T"}, "10.0.0.5", "8.8.4.4", False),
        ({"local_orig": "T", "local_resp": "T"}, "10.0.0.5", "8.8.4.4", False),
        ({"local_orig": "F", "local_resp": "F"}, "10.0.0.5", "8.8.4.4", True),  # no local nets
    ],
)
def test_direction(extra: dict, src: str, dst: str, outbound: bool) -> None:
    assert (transfer_of(flow(T0, src=src, dst=dst, **extra)) is not None) is outbound


def test_only_directional_byte_counts_are_read() -> None:
    total_only = Event(
        "t",
        CLASS_NETWORK_ACTIVITY,
        T0,
        {
            "src_endpoint": {"ip": "10.0.0.5"},
            "dst_endpoint": {"ip": "8.8.4.4", "port": 443},
            "traffic": {"bytes": 5 * MB},
        },
        {},
        "",
        Provenance("x", "jsonl", 1, "b", 0),
    )
    assert transfer_of(total_only) is None
    ocsf = Event(
        "o",
        CLASS_NETWORK_ACTIVITY,
        T0,
        {
            "src_endpoint": {"ip": "10.0.0.5"},
            "dst_endpoint": {"ip": "8.8.4.4", "port": 443},
            "traffic": {"bytes_out": 5 * MB, "bytes_in": 1000},
        },
        {},
        "",
        Provenance("x", "jsonl", 1, "b", 0),
    )
    t = transfer_of(ocsf)
    assert t is not None and (t.bytes_out, t.bytes_in) == (5 * MB, 1000)
    http = flow(T0, out=None, back=None, cls=CLASS_HTTP_ACTIVITY, request_body_len=9 * MB)
    assert transfer_of(http) is None  # http.log repeats the connection conn.log counted
    for junk in ("-", "nan", "-5", "1e400", "lots"):
        assert transfer_of(flow(T0, out=junk)) is None  # type: ignore[arg-type]


# -- reporting ----------------------------------------------------------------------------------
def test_a_big_upload_to_a_new_address_is_reported_against_the_hosts_own_record() -> None:
    events = background(3) + exfil(2)
    findings, det = run(events)
    (f,) = findings
    e = f.explanation
    assert e["bytes_out"] == 3 * 10**9 and e["connections"] == 4
    assert e["reference"]["kind"] == "own history" and e["reference"]["days"] == 2
    assert e["reference"]["bytes"] == 200_000  # the host's largest daily upload to one place
    assert e["ratio_to_reference"] == pytest.approx(3000.0)  # against the 1 MB floor
    assert e["destination_clients"] == 1 and e["destination_new_today"] is True
    assert e["producer_consumer_ratio"] > 0.99
    assert f.severity_id == 4 and f.confidence == 90
    assert sum(e["confidence_parts"].values()) == f.confidence
    assert [a.technique_uid for a in f.attacks] == ["T1048"]
    assert {x.key() for x in f.entities} == {"ip:10.0.0.10", "ip:185.12.7.66"}
    assert "3.0 GB sent from 10.0.0.10 to 185.12.7.66 in 4 connection(s)" in e["observed"]
    assert "only this host ever sent to it" in e["destination"]
    assert len(f.evidences) == 4 and f.time == T0 + 2 * DAY + 12 * HOUR
    assert det.stats()["reference: own history"] == 1


def test_web_ports_map_to_c2_channel_or_web_service() -> None:
    late = flow(T0 + 2 * DAY + HOUR, src="10.0.0.11", dst="185.12.7.9", out=60 * MB, port=443)
    events = [*background(3), late]
    (f,) = run(events)[0]
    assert [a.technique_uid for a in f.attacks] == ["T1041", "T1567"]


def test_downloads_and_calls_are_not_uploads() -> None:
    # a video call sends a lot but receives more: producer-consumer ratio below zero
    call = [
        flow(
            T0 + 2 * DAY + HOUR,
            src="10.0.0.10",
            dst="185.12.7.5",
            out=80 * MB,
            back=360 * MB,
            port=10000,
        )
    ]
    assert run(background(3) + call)[0] == []


def test_a_destination_many_hosts_send_to_is_a_service() -> None:
    shared = [
        flow(T0 + d * DAY + HOUR, src=f"10.0.0.{10 + h}", dst="185.12.7.80", out=1000)
        for d in range(2)
        for h in range(4)
    ]
    events = background(3) + shared + exfil(2, dst="185.12.7.80")
    findings, det = run(events)
    assert findings == [] and det.stats()["popular-destination"] == 1
    assert len(run(background(3) + shared + exfil(2, dst="185.12.7.80"), max_clients=4)[0]) == 1


def test_a_host_that_always_uploads_that_much_is_within_its_baseline() -> None:
    backup = [
        flow(T0 + d * DAY + 2 * HOUR, src="10.0.0.10", dst="185.12.7.44", out=500 * MB, back=MB)
        for d in range(3)
    ]
    findings, det = run(background(3) + backup)
    # the first day has no history of its own: the peers decide, and report it; from the
    # second day on, its own record (500 MB to that address) is the reference
    (f,) = findings
    assert f.explanation["reference"]["kind"] == "peers" and f.time < T0 + DAY
    assert det.stats()["within-baseline"] == 2 and det.stats()["candidates"] == 3
    state = StateDB.memory()
    run(background(2) + backup[:2], state)
    assert run(background(1, start=T0 + 2 * DAY) + backup[2:], state)[0] == []


def test_below_volume_and_allow_listed_are_not_reported() -> None:
    small = [flow(T0 + 2 * DAY + HOUR, src="10.0.0.10", dst="185.12.7.5", out=19 * MB)]
    assert run(background(3) + small)[0] == []
    assert run(background(3) + exfil(2), allow=["185.12.7.0/24"])[0] == []


def test_peers_are_the_reference_for_a_host_without_history() -> None:
    newcomer = [flow(T0 + 2 * DAY + HOUR, src="10.0.0.99", dst="185.12.7.5", out=80 * MB)]
    (f,) = run(background(3) + newcomer)[0]
    ref = f.explanation["reference"]
    assert ref["kind"] == "peers" and ref["peer_sources"] == 8
    assert "no history of its own" in f.explanation["baseline"]
    assert f.severity_id == 3


def test_without_history_or_peers_it_says_so_and_stays_low() -> None:
    lone = [flow(T0 + HOUR, src="10.0.0.7", dst="185.12.7.5", out=40 * MB, back=5000, port=1337)]
    (f,) = run(lone)[0]
    assert f.explanation["reference"]["kind"] == "none"
    assert f.explanation["ratio_to_reference"] is None
    assert f.severity_id == 2 and "no reference" in f.explanation["baseline"]
    assert f.confidence == 50 + 15 + 10 - 15 + 5


# -- state between runs ---------------------------------------------------------------------
def test_history_and_destinations_carry_over_between_runs() -> None:
    state = StateDB.memory()
    assert run(background(2, batch="d12"), state)[0] == []
    findings, _ = run(background(1, start=T0 + 2 * DAY, batch="d3") + exfil(2), state)
    (f,) = findings
    assert f.explanation["reference"] == {
        "kind": "own history",
        "bytes": 200_000,
        "days": 2,
        "floor_bytes": MB,
    }
    # hunting the same files again scores the same and does not learn them twice
    again, _ = run(background(1, start=T0 + 2 * DAY, batch="d3") + exfil(2), state)
    assert [g.title for g in again] == [f.title]
    rows = state.query(
        "SELECT bytes_out FROM egress_source_days WHERE source='10.0.0.10' AND day=?",
        ((T0 + 2 * DAY) // DAY,),
    )
    assert rows == [(3 * 10**9 + 3 * 200_000,)]
    # the next day, the same upload to the same place is the host's known behaviour
    later, _ = run(exfil(3, batch="d4"), state)
    assert later == []


def test_destinations_are_forgotten_after_retention_counted_in_event_time() -> None:
    state = StateDB.memory()
    run([flow(T0, dst="185.12.7.1", batch="old")], state, retention_days=30)
    assert state.query("SELECT COUNT(*) FROM egress_destinations") == [(1,)]
    run([flow(T0 + 40 * DAY, dst="185.12.7.2", batch="new")], state, retention_days=30)
    assert state.query("SELECT dst FROM egress_destinations") == [("185.12.7.2",)]


# -- bounds -------------------------------------------------------------------------------------
def test_bucket_table_is_bounded_and_keeps_the_large_buckets() -> None:
    noise = [
        flow(T0 + i, src="10.0.0.5", dst=f"44.1.{i // 250}.{i % 250 + 1}", out=100)
        for i in range(3000)
    ]
    findings, det = run(noise + exfil(0), max_buckets=1000)
    stats = det.stats()
    assert stats["buckets"] <= 1000 and stats["buckets_pruned"] > 0
    assert len(findings) == 1 and findings[0].explanation["bytes_out"] == 3 * 10**9


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3 * DAY),
            st.sampled_from(["10.0.0.1", "10.0.0.2", "8.8.8.8", "not-an-ip", "::1"]),
            st.sampled_from(["185.12.7.1", "185.12.7.2", "10.0.0.3", "ff02::1", ""]),
            st.one_of(st.none(), st.integers(-10, 5 * 10**9), st.text(max_size=5)),
            st.one_of(st.none(), st.integers(0, 10**9)),
        ),
        max_size=60,
    )
)
def test_any_flows_give_consistent_findings(rows: list) -> None:
    events = [flow(T0 + t, src=s, dst=d, out=o, back=b) for t, s, d, o, b in rows]
    findings, _ = run(events, min_bytes=MB)
    given_uids = {e.uid for e in events}
    for f in findings:
        assert {ev.event_uid for ev in f.evidences} <= given_uids
        sent = sum(
            t.bytes_out
            for e in events
            if (t := transfer_of(e)) is not None
            and f"sent from {t.src} to {t.dst} " in f.explanation["observed"]
            and t.time // DAY == (f.time // DAY)
        )
        assert sent == f.explanation["bytes_out"] >= MB
        assert 0 <= f.confidence <= 100


def test_human_bytes() -> None:
    assert [human_bytes(x) for x in (0, 999, 1000, 3_508_672_040)] == [
        "0 B",
        "999 B",
        "1.0 kB",
        "3.5 GB",
    ]


# -- evaluation (offline, on hand-made Zeek logs) ---------------------------------------------
_HEADER = [
    "#separator \\x09",
    "#set_separator\t,",
    "#empty_field\t(empty)",
    "#unset_field\t-",
    "#path\tconn",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration"
    "\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory"
    "\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents",
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount"
    "\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]",
]


def _zeek(folder: Path, rows: list[tuple[float, str, str, int, int, int]]) -> None:
    folder.mkdir(parents=True)
    lines = list(_HEADER)
    for i, (ts, src, dst, port, out, back) in enumerate(rows):
        lines.append(
            f"{ts:.6f}\tC{i:05d}x\t{src}\t{40000 + i}\t{dst}\t{port}\ttcp\t-\t1.0\t{out}\t{back}"
            f"\tSF\t-\t-\t0\tShADadFf\t10\t{out + 400}\t10\t{back + 400}\t-"
        )
    (folder / "conn.log").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_evaluation_judges_findings_by_the_captures_truth(tmp_path: Path) -> None:
    from garrison.measure.ml_eval.egress_eval import evaluate_capture

    rat = tmp_path / "003-zeek-scenario-malicious"
    _zeek(
        rat,
        [(1_596_790_200.0 + i, "10.8.0.61", "147.32.83.234", 1337, 8 * MB, 50) for i in range(5)],
    )
    result = evaluate_capture(rat)
    assert result["verdicts"] == {"true positive": 1}
    assert result["sweep_min_bytes"]["50 MB"] == 0 and result["sweep_min_bytes"]["20 MB"] == 1
    benign = tmp_path / "010-zeek-mixed"
    _zeek(benign, [(1_596_790_200.0, "10.8.0.9", "104.244.42.2", 443, 30 * MB, 1000)])
    assert evaluate_capture(benign)["verdicts"] == {"false positive": 1}
