"""ml.anomaly: entity-hour vectors, outlier findings with their top features, bad input."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.core.events import (
    CLASS_AUTHENTICATION,
    CLASS_DNS_ACTIVITY,
    CLASS_NETWORK_ACTIVITY,
    Event,
    Provenance,
)
from garrison.detect.ml.anomaly import AnomalyConfig, AnomalyDetector
from garrison.detect.ml.anomaly.explain import occlusion, robust_z
from garrison.detect.ml.anomaly.features import FEATURES, VectorTable, entity_of
from garrison.detect.ml.anomaly.iforest import IsolationForestEstimator

T0 = 1_704_067_200_000
HOUR = 3_600_000
_n = iter(range(1, 10**9))


def ev(t: int, cls: int, fields: dict[str, object], ocsf: dict[str, object] | None = None) -> Event:
    i = next(_n)
    return Event(f"a{i}", cls, t, ocsf or {}, fields, "", Provenance("x.log", "zeek", i, "f", 0))


def net(t: int, src: str, dst: str, port: int = 443, out: int = 500) -> Event:
    return ev(
        t,
        CLASS_NETWORK_ACTIVITY,
        {
            "id.orig_h": src,
            "id.resp_h": dst,
            "id.resp_p": port,
            "orig_bytes": out,
            "resp_bytes": 2000,
        },
    )


def normal_day(rng: np.random.Generator, hosts: int = 8, hours: int = 24) -> list[Event]:
    out = []
    for h in range(hours):
        for k in range(hosts):
            src = f"10.0.0.{k + 1}"
            for _ in range(int(rng.integers(20, 30))):
                out.append(
                    net(
                        T0 + h * HOUR + int(rng.integers(0, HOUR)),
                        src,
                        f"93.184.216.{int(rng.integers(1, 6))}",
                    )
                )
            out.append(
                ev(
                    T0 + h * HOUR + 5,
                    CLASS_DNS_ACTIVITY,
                    {"id.orig_h": src, "query": "example.com", "rcode_name": "NOERROR"},
                )
            )
    return out


def test_vectors_count_what_happened() -> None:
    table = VectorTable()
    table.add(net(T0, "10.0.0.1", "1.1.1.1", port=22))
    table.add(net(T0 + 10, "10.0.0.1", "1.1.1.2", port=23))
    table.add(
        ev(
            T0 + 20,
            CLASS_DNS_ACTIVITY,
            {"id.orig_h": "10.0.0.1", "query": "a.b", "rcode_name": "NXDOMAIN"},
        )
    )
    table.add(
        ev(
            T0 + 30,
            CLASS_AUTHENTICATION,
            {"EventID": 4625, "Channel": "Security", "Computer": "DC1", "TargetUserName": "x"},
        )
    )
    table.add(ev(T0 + HOUR, CLASS_NETWORK_ACTIVITY, {}))  # names no entity
    raw = table.vectors[("ip", "10.0.0.1", T0 // HOUR)].raw()
    assert raw["connections"] == 2 and raw["distinct_dst_ports"] == 2
    assert raw["bytes_out"] == 1000 and raw["nxdomain"] == 1 and raw["dns_queries"] == 1
    dc = table.vectors[("host", "dc1", T0 // HOUR)].raw()
    assert dc["auth_failure"] == 1 and dc["distinct_users"] == 1
    assert table.skipped == 1
    assert entity_of(ev(T0, 0, {"hostname": "Web01.corp"})) == ("host", "web01")


def test_vector_table_is_bounded() -> None:
    table = VectorTable(max_vectors=3)
    for k in range(5):
        table.add(net(T0, f"10.0.0.{k}", "1.1.1.1"))
    assert len(table.vectors) == 3 and table.evicted == 2


def test_finds_the_scanning_hour_and_names_its_features() -> None:
    rng = np.random.default_rng(4)
    events = normal_day(rng)
    scan_t = T0 + 13 * HOUR
    events += [
        net(scan_t + i, "10.0.0.3", f"10.0.1.{i % 250}", port=1 + i, out=0) for i in range(600)
    ]
    det = AnomalyDetector()
    det.observe(events)
    findings = det.finish()
    assert findings, det.stats()
    top = findings[0]
    assert ("ip", "10.0.0.3") in {(e.kind, e.value) for e in top.entities}
    assert top.explanation["hour"].startswith("2024-01-01T13")
    features = [t["feature"] for t in top.explanation["top_features"]]
    assert {"distinct_dst_ports", "distinct_dst_ips", "connections"} & set(features[:3])
    first = top.explanation["top_features"][0]
    assert first["observed"] > first["baseline"] and first["weight"] > 0
    assert top.model_version == "sklearn-iforest-1" and top.confidence >= 99
    assert top.attacks and top.attacks[0].technique_uid == "T1046"
    assert len(findings) <= AnomalyConfig().max_findings


def test_quiet_runs_report_nothing() -> None:
    det = AnomalyDetector()
    det.observe([net(T0, "10.0.0.1", "1.1.1.1")])
    assert det.finish() == [] and "fewer than" in det.stats()["note"]
    rng = np.random.default_rng(1)
    uniform = AnomalyDetector()
    uniform.observe(normal_day(rng))
    assert uniform.finish() == []  # no outlier in homogeneous traffic


def test_hst_option_works() -> None:
    rng = np.random.default_rng(4)
    events = normal_day(rng)
    events += [
        net(T0 + 13 * HOUR + i, "10.0.0.3", f"10.0.1.{i % 250}", port=1 + i) for i in range(600)
    ]
    det = AnomalyDetector(AnomalyConfig(estimator="hst", min_z=3.0))
    det.observe(events)
    findings = det.finish()
    assert findings and findings[0].model_version == "river-hst-1"


def test_occlusion_and_robust_z() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    X[0] = [0.0, 9.0, 0.0]
    est = IsolationForestEstimator(seed=0).fit(X)
    contrib = occlusion(est, X[0], np.median(X, axis=0), ["a", "b", "c"])
    assert contrib[0][0] == "b" and contrib[0][1] > 0
    assert robust_z(np.array([1.0, 1.0, 1.0])).tolist() == [0.0, 0.0, 0.0]
    assert robust_z(np.array([])).size == 0
    assert robust_z(np.array([0.0, 0.0, 0.0, 0.0, 5.0]))[-1] > 1


junk = st.one_of(
    st.none(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0, 1007, 3002, 4001, 4002, 4003]),
            st.one_of(st.integers(-(10**14), 10**14), st.just(T0)),
            st.dictionaries(
                st.sampled_from(
                    [
                        "id.orig_h",
                        "id.resp_h",
                        "id.resp_p",
                        "orig_bytes",
                        "resp_bytes",
                        "query",
                        "rcode_name",
                        "Computer",
                        "hostname",
                        "EventID",
                        "TargetUserName",
                        "Image",
                        "host",
                    ]
                ),
                junk,
                max_size=8,
            ),
        ),
        max_size=60,
    )
)
def test_bad_input_never_raises(items: list[tuple[int, int, dict[str, object]]]) -> None:
    det = AnomalyDetector(AnomalyConfig(min_vectors=2, min_z=0.0))
    det.observe([ev(t, cls, fields) for cls, t, fields in items])
    for f in det.finish():
        assert 0 <= f.confidence <= 100
        assert all(np.isfinite(t["weight"]) for t in f.explanation["top_features"])
    assert set(det.stats()) >= {"entity_hours", "note"}
    assert len(FEATURES) == 16
