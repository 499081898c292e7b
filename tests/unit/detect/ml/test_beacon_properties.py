"""ml.beacon on hostile input: any mix of missing fields, garbage values, duplicate and
backwards timestamps gives a defined result, never an exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.core.events import CLASS_HTTP_ACTIVITY, CLASS_NETWORK_ACTIVITY, Event, Provenance
from garrison.detect.ml.beacon import BeaconDetector, Window, score_pair

T0 = 1_700_000_000_000

ips = st.sampled_from(
    [
        "10.0.0.1",
        "10.0.0.2",
        "203.0.113.5",
        "224.0.0.1",
        "fe80::1",
        "::ffff:1.2.3.4",
        "",
        "-",
        "999.1.1.1",
        "x",
    ]
)
values = st.one_of(
    st.none(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.booleans(),
    ips,
)
field_dicts = st.dictionaries(
    st.sampled_from(
        [
            "id.orig_h",
            "id.resp_h",
            "id.resp_p",
            "orig_bytes",
            "host",
            "server_name",
            "proto",
            "service",
            "local_orig",
            "local_resp",
            "id.orig_p",
            "request_body_len",
        ]
    ),
    st.one_of(values, ips),
    max_size=12,
)
times = st.one_of(st.integers(T0 - 10**9, T0 + 10**9), st.integers(-(10**15), 10**15), st.just(T0))


@st.composite
def events(draw: st.DrawFn) -> list[Event]:
    out = []
    n = draw(st.integers(0, 60))
    for i in range(n):
        fields = draw(field_dicts)
        ocsf = draw(
            st.one_of(
                st.just({}),
                st.fixed_dictionaries(
                    {
                        "src_endpoint": st.one_of(
                            st.just("oops"), st.fixed_dictionaries({"ip": ips})
                        ),
                        "dst_endpoint": st.one_of(st.just([1]), st.fixed_dictionaries({"ip": ips})),
                    }
                ),
            )
        )
        cls = draw(st.sampled_from([CLASS_NETWORK_ACTIVITY, CLASS_HTTP_ACTIVITY, 0, 4003]))
        prov = Provenance("p", "zeek", i, "fp", 0)
        out.append(Event(f"e{i}", cls, draw(times), ocsf, fields, "", prov))
    # a regular pair so that scoring code paths run too
    if draw(st.booleans()):
        step = draw(st.integers(1, 10**7))
        for k in range(draw(st.integers(0, 30))):
            prov = Provenance("p", "zeek", 1000 + k, "fp", 0)
            out.append(
                Event(
                    f"r{k}",
                    CLASS_NETWORK_ACTIVITY,
                    T0 + draw(st.sampled_from([1, -1])) * k * step,
                    {},
                    {
                        "id.orig_h": "10.0.0.7",
                        "id.resp_h": "198.51.100.9",
                        "orig_bytes": draw(values),
                    },
                    "",
                    prov,
                )
            )
    return out


@settings(max_examples=60, deadline=None)
@given(events())
def test_any_events_give_defined_findings(evs: list[Event]) -> None:
    det = BeaconDetector()
    assert det.observe(evs) == []
    findings = det.finish()
    uids = {e.uid for e in evs}
    for f in findings:
        assert 0 <= f.confidence <= 100
        assert 0.0 <= f.explanation["sub_scores"]["score"] <= 1.0
        assert all(ev.event_uid in uids for ev in f.evidences)
    assert isinstance(det.stats(), dict)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-(10**13), 10**13), max_size=80),
    st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**6), 10**9)),
        max_size=80,
    ),
    st.integers(0, 10**12),
    st.integers(0, 10**12),
)
def test_score_pair_is_total(times: list[int], sizes: list[float], a: int, b: int) -> None:
    s = score_pair(times, sizes, Window(min(a, b), max(a, b)))
    for value in (s.score, s.timing, s.size, s.histogram, s.duration):
        assert 0.0 <= value <= 1.0
