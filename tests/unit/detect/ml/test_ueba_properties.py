"""ml.ueba on hostile input: missing fields, garbage values, single-event entities, clock
skew and duplicate timestamps give a defined result, never an exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.core.events import CLASS_AUTHENTICATION, Event, Provenance
from garrison.detect.ml.ueba import UebaConfig, UebaDetector
from garrison.store.state import StateDB

T0 = 1_704_067_200_000

junk = st.one_of(
    st.none(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
users = st.sampled_from(
    [
        "alice",
        "CORP\\bob",
        "x@y",
        "",
        "-",
        "WS1$",
        "ANONYMOUS LOGON",
        "a" * 300,
        "\u202eevil",
        "root",
    ]
)
ips = st.sampled_from(
    ["10.0.0.1", "::ffff:10.0.0.2", "fe80::1%eth0", "-", "nope", "", "1.2.3.4", "[2001:db8::1]"]
)
windows = st.fixed_dictionaries(
    {
        "EventID": st.one_of(
            st.sampled_from([4624, 4625, 4648, 4768, 4769, 4771, 4776, "4624", "x", None]), junk
        ),
        "TargetUserName": st.one_of(users, junk),
    },
    optional={
        "Channel": st.one_of(st.just("Security"), junk),
        "Computer": st.one_of(st.just("DC1"), junk),
        "IpAddress": st.one_of(ips, junk),
        "WorkstationName": st.one_of(st.just("WS2"), junk),
        "Status": st.one_of(st.sampled_from(["0x0", "0xC000006A"]), junk),
        "ServiceName": st.one_of(st.just("HOST9$"), junk),
        "TargetServerName": junk,
        "TargetDomainName": junk,
    },
)
sshd = st.fixed_dictionaries(
    {
        "program": st.sampled_from(["sshd", "sshd-session", "sudo", None]),
        "message": st.one_of(
            st.builds(lambda u, ip: f"Failed password for {u} from {ip} port 22 ssh2", users, ips),
            st.builds(
                lambda u, ip: f"Accepted password for {u} from {ip} port 22 ssh2", users, ips
            ),
            st.builds(
                lambda n: (
                    f"message repeated {n} times: [ Failed password for root from "
                    f"1.1.1.1 port 2 ssh2]"
                ),
                st.integers(-5, 10**9),
            ),
            st.text(max_size=60),
            junk,
        ),
    },
    optional={"hostname": junk},
)
ocsf = st.fixed_dictionaries(
    {
        "activity_id": st.one_of(st.sampled_from([0, 1, 3, 99]), junk),
        "status_id": st.one_of(st.sampled_from([1, 2]), junk),
        "user": st.one_of(st.fixed_dictionaries({"name": st.one_of(users, junk)}), junk),
    },
    optional={
        "src_endpoint": st.one_of(st.fixed_dictionaries({"ip": ips}), junk),
        "count": junk,
        "logon_type": junk,
    },
)
times = st.one_of(st.integers(T0 - 10**8, T0 + 10**10), st.just(T0), st.integers(-(10**14), 0))


@st.composite
def event_lists(draw: st.DrawFn) -> list[Event]:
    out = []
    for i in range(draw(st.integers(0, 50))):
        kind = draw(st.integers(0, 2))
        fields = draw(windows) if kind == 0 else draw(sshd) if kind == 1 else {}
        body = draw(ocsf) if kind == 2 else {}
        cls = draw(st.sampled_from([CLASS_AUTHENTICATION, 0, 1007]))
        out.append(
            Event(f"e{i}", cls, draw(times), body, fields, "", Provenance("f", "x", i, "fp", 0))
        )
    return out


@settings(max_examples=60, deadline=None)
@given(event_lists(), st.booleans())
def test_any_events_give_defined_findings(events: list[Event], persist: bool) -> None:
    state = StateDB.memory() if persist else None
    cfg = UebaConfig(
        warmup_hours=0,
        user_min_logons=1,
        user_min_days=0,
        hour_min_logons=1,
        bruteforce_min_failures=2,
        fanout_min_hosts=2,
    )
    det = UebaDetector(cfg, state)
    assert det.observe(events) == []
    findings = det.finish()
    uids = {e.uid for e in events}
    for f in findings:
        assert 0 <= f.confidence <= 100 and f.title
        assert all(ev.event_uid in uids for ev in f.evidences)
        assert "observed" in f.explanation and "model_version" in f.explanation
    # a second run over the same state must work as well
    again = UebaDetector(cfg, state)
    again.observe(events)
    again.finish()
