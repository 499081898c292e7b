"""ml.ueba: reading attempts, each analytic, warm-up, and baselines kept between runs."""

from __future__ import annotations

from pathlib import Path

from garrison.core.events import CLASS_AUTHENTICATION, Event, Provenance
from garrison.detect.ml.ueba import UebaConfig, UebaDetector, auth_event_of
from garrison.detect.ml.ueba.authevents import split_user
from garrison.detect.ml.ueba.baseline import Baseline, network_of
from garrison.detect.ml.ueba.novelty import hour_distribution, rarity_tail
from garrison.store.state import StateDB

T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC, a Monday
MIN = 60_000
HOUR = 3_600_000
DAY = 24 * HOUR

_uid = iter(range(1, 10**9))


def win(
    t: int,
    user: str,
    target: str,
    *,
    ok: bool = True,
    ws: str = "-",
    ip: str = "-",
    eid: int | None = None,
    batch: str = "",
    **extra: object,
) -> Event:
    i = next(_uid)
    fields: dict[str, object] = {
        "EventID": eid or (4624 if ok else 4625),
        "Channel": "Security",
        "Computer": target,
        "TargetUserName": user,
        "TargetDomainName": "CORP",
        "WorkstationName": ws,
        "IpAddress": ip,
        "LogonType": "3",
    }
    fields.update(extra)
    return Event(
        f"w{i}",
        CLASS_AUTHENTICATION,
        t,
        {},
        fields,
        "",
        Provenance("Security.evtx", "evtx", i, batch or f"batch{i // 1000}", 0),
    )


def ssh(t: int, message: str) -> Event:
    i = next(_uid)
    return Event(
        f"s{i}",
        0,
        t,
        {},
        {"program": "sshd", "hostname": "bastion", "message": message},
        message,
        Provenance("auth.log", "syslog", i, "fp", 0),
    )


def ocsf_auth(
    t: int, user: str, status: int, ip: str, activity: int = 1, count: int | None = None
) -> Event:
    i = next(_uid)
    ocsf: dict[str, object] = {
        "class_uid": 3002,
        "activity_id": activity,
        "status_id": status,
        "user": {"name": user},
        "src_endpoint": {"ip": ip},
        "dst_endpoint": {"hostname": "web01"},
        "logon_type": "ssh",
    }
    if count:
        ocsf["count"] = count
    return Event(
        f"o{i}",
        CLASS_AUTHENTICATION,
        t,
        ocsf,
        {"program": "sshd"},
        "",
        Provenance("auth.log", "syslog", i, "fp", 0),
    )


def run(events: list[Event], state: StateDB | None = None, **options: object) -> list:
    det = UebaDetector(UebaConfig(**options), state)  # type: ignore[arg-type]
    det.observe(events)
    return det.finish()


def by(findings: list, analytic: str) -> list:
    return [f for f in findings if f.analytic_uid == f"ml.ueba.{analytic}"]


def routine(
    days: int, users: tuple[str, ...] = ("alice", "bob", "carol"), start: int = T0
) -> list[Event]:
    """Each user: weekday logons 09:00-17:00 from its own workstation to two servers."""
    out = []
    for d in range(days):
        if d % 7 in (5, 6):
            continue
        for k, user in enumerate(users):
            for h in range(9, 17):
                t = start + d * DAY + h * HOUR + k * MIN
                out.append(win(t, user, f"srv{k}", ws=f"ws-{user}", ip=f"10.1.{k}.5"))
                out.append(win(t + 5 * MIN, user, "files", ws=f"ws-{user}", ip=f"10.1.{k}.5"))
    return out


# -- reading attempts ------------------------------------------------------------------
def test_windows_events_are_read() -> None:
    a = auth_event_of(win(T0, "CORP\\Alice", "DC01", ok=False, ws="WS7", ip="::ffff:10.0.0.7"))
    assert a is not None and (a.user, a.domain, a.outcome) == ("alice", "corp", "failure")
    assert (a.src_ip, a.src_host, a.dst_host) == ("10.0.0.7", "ws7", "dc01")
    st = auth_event_of(
        win(T0, "bob@CORP.LOCAL", "DC01", eid=4769, ServiceName="WS6$", Status="0x0")
    )
    assert st is not None and st.dst_host == "ws6" and st.kind == "service-ticket"
    assert st.outcome == "success"
    bad = auth_event_of(win(T0, "bob", "DC01", eid=4776, Status="0xC000006A"))
    assert bad is not None and bad.outcome == "failure" and bad.kind == "ntlm"
    exp = auth_event_of(win(T0, "bob", "WS1", eid=4648, TargetServerName="FS02.corp.local"))
    assert exp is not None and exp.dst_host == "fs02" and exp.src_host == "ws1"
    assert auth_event_of(win(T0, "-", "DC01")) is None
    assert auth_event_of(win(T0, "bob", "DC01", eid=4634)) is None
    machine = auth_event_of(win(T0, "WS1$", "DC01"))
    assert machine is not None and machine.machine


def test_sshd_lines_and_ocsf_events_are_read() -> None:
    a = auth_event_of(ssh(T0, "Failed password for invalid user admin from 1.2.3.4 port 22 ssh2"))
    assert a is not None and (a.user, a.src_ip, a.outcome, a.count) == (
        "admin",
        "1.2.3.4",
        "failure",
        1,
    )
    rep = auth_event_of(
        ssh(T0, "message repeated 5 times: [ Failed password for root from 5.6.7.8 port 4242 ssh2]")
    )
    assert rep is not None and rep.count == 5 and rep.user == "root"
    ok = auth_event_of(
        ssh(T0, "Accepted publickey for deploy from 10.0.0.9 port 50022 ssh2: RSA SHA256:abc")
    )
    assert ok is not None and ok.outcome == "success" and ok.dst_host == "bastion"
    assert auth_event_of(ssh(T0, "Invalid user admin from 1.2.3.4")) is None
    o = auth_event_of(ocsf_auth(T0, "root", 2, "9.9.9.9", count=3))
    assert o is not None and o.count == 3 and o.kind == "ssh"
    assert auth_event_of(ocsf_auth(T0, "root", 2, "9.9.9.9", activity=99)) is None


def test_user_and_network_helpers() -> None:
    assert split_user("DOM\\Eve") == ("eve", "dom", False)
    assert split_user("eve@corp.example.com") == ("eve", "corp", False)
    assert split_user("ANONYMOUS LOGON") is None
    assert network_of("10.1.2.3") == "10.1.2.0/24"
    assert network_of("2001:db8::1") == "2001:db8::/64"
    assert network_of("nope") is None


# -- volume analytics ------------------------------------------------------------------
def test_brute_force_from_one_source() -> None:
    events = [
        ssh(T0 + i * 5_000, f"Failed password for root from 1.2.3.4 port {i} ssh2")
        for i in range(30)
    ]
    findings = run(events)
    bf = by(findings, "bruteforce")
    assert len(bf) == 1
    f = bf[0]
    assert f.attacks[0].technique_uid == "T1110.001"
    assert f.attacks[0].tactic_name == "Credential Access"
    assert {("ip", "1.2.3.4"), ("user", "root")} <= {(e.kind, e.value) for e in f.entities}
    assert f.explanation["failures"] == 30 and "no history" in f.explanation["baseline"]
    assert f.explanation["tail_confidence"] >= 0.99 and f.model_version == "ueba-1.0"
    assert f.confidence == round(100 * f.explanation["confidence"])
    assert "Poisson" in f.explanation["tail_confidence_basis"]
    assert not by(findings, "spraying")


def test_password_spraying_and_slow_attack_blind_spot() -> None:
    spray = [
        ssh(T0 + i * 20_000, f"Failed password for user{i} from 6.6.6.6 port 1 ssh2")
        for i in range(12)
    ]
    assert by(run(spray), "spraying")[0].attacks[0].technique_uid == "T1110.003"
    slow = [
        ssh(T0 + i * 20 * MIN, "Failed password for root from 7.7.7.7 port 1 ssh2")
        for i in range(30)
    ]
    assert run(slow) == []  # one try every 20 min: below the burst gap, stated blind spot


def test_credential_stuffing() -> None:
    events = [
        ocsf_auth(T0 + i * 10_000, f"user{i}", 2, f"203.0.113.{i % 8 + 1}") for i in range(40)
    ]
    stuffing = by(run(events), "stuffing")
    assert len(stuffing) == 1 and stuffing[0].attacks[0].technique_uid == "T1110.004"
    events.extend(ocsf_auth(T0 + 5 * MIN + i, f"user{i}", 1, "203.0.113.1") for i in range(20))
    assert by(run(events), "stuffing") == []  # a third succeed: not stuffing


def test_success_after_failures() -> None:
    events = [win(T0 + i * MIN, "dave", "srv1", ok=False, ip="10.9.9.9") for i in range(6)]
    events.append(win(T0 + 7 * MIN, "dave", "srv1", ip="10.9.9.9"))
    hits = by(run(events), "success-after-failures")
    assert len(hits) == 1
    assert {a.technique_uid for a in hits[0].attacks} == {"T1110", "T1078"}
    assert hits[0].evidences[-1].time == T0 + 7 * MIN


def test_fan_out_after_warm_up_only_and_routine_admins_learnt() -> None:
    base = routine(14)
    burst_time = T0 + 10 * DAY + 14 * HOUR
    burst = [
        win(burst_time + i * MIN, "bob", f"host{i}", ws="ws-bob", ip="10.1.1.5") for i in range(12)
    ]
    findings = run(base + burst)
    fan = by(findings, "fanout")
    assert fan, "12 new hosts in 12 minutes must fire"
    assert all(f.attacks[0].technique_uid == "T1021" for f in fan)
    assert "ml.ueba.fanout" in {f.analytic_uid for f in fan}
    # the same burst inside the warm-up is learnt, not reported
    early = [win(T0 + 14 * HOUR + i * MIN, "bob", f"host{i}", ws="ws-bob") for i in range(12)]
    assert by(run(routine(14) + early), "fanout") == []


def test_cold_start_does_not_flood_and_later_novelty_fires() -> None:
    events = routine(21)
    assert run(events) == []  # three weeks of routine: nothing to report
    odd = T0 + 18 * DAY + 3 * HOUR  # a Thursday, 03:00 UTC, from a new network and host
    events.append(win(odd, "alice", "payroll", ws="kiosk9", ip="192.0.2.77"))
    findings = run(events)
    kinds = {f.explanation.get("kind") for f in by(findings, "first-seen")}
    assert kinds == {"src_net", "src_host", "dst_host"}
    unusual = by(findings, "unusual-hour")
    assert len(unusual) == 1 and "peer group" in unusual[0].title
    assert unusual[0].explanation["user_hour_share"] < 0.01
    for f in findings:
        assert f.explanation["observed"] and f.explanation["baseline"]
        assert 0 <= f.confidence <= 100


def test_popular_target_host_is_not_news() -> None:
    users = tuple(f"u{i}" for i in range(12))
    events = routine(14, users)
    t = T0 + 10 * DAY + 11 * HOUR
    events.append(win(t, "u0", "files", ws="ws-u0", ip="10.1.0.5"))  # known already
    events.append(win(t + MIN, "u0", "srv5", ws="ws-u0", ip="10.1.0.5"))  # used by u5 only
    first = by(run(events), "first-seen")
    assert [f.explanation["new_values"] for f in first] == [["srv5"]]


def test_baselines_persist_between_runs(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    state = StateDB(db)
    assert run(routine(14), state) == []
    state.close()
    state = StateDB(db)  # a second run, a new process: the baseline is remembered
    later = T0 + 16 * DAY + 10 * HOUR  # Wednesday, office hours
    findings = run(
        [
            win(later, "carol", "srv2", ws="ws-carol", ip="10.1.2.5", batch="run2"),
            win(later + MIN, "carol", "secret-db", ws="ws-carol", ip="10.1.2.5", batch="run2"),
        ],
        state,
    )
    assert [f.explanation["new_values"] for f in by(findings, "first-seen")] == [["secret-db"]]
    rows = state.query("SELECT COUNT(*) FROM ueba_seen WHERE user='carol'")
    assert rows[0][0] >= 5
    baseline = Baseline(state)
    assert baseline.user("carol").successes == 10 * 16 + 2
    assert baseline.span_ms() >= 15 * DAY
    state.close()


def test_hour_model() -> None:
    hours = [0] * 24
    for h in range(9, 17):
        hours[h] = 50
    dist = hour_distribution(hours)
    assert abs(sum(dist) - 1.0) < 1e-9
    assert dist[3] < 0.001 < dist[8] < dist[12]
    assert rarity_tail(dist, 3) < 0.02 and rarity_tail(dist, 12) > 0.5


def test_events_out_of_order_give_the_same_result() -> None:
    events = [
        ssh(T0 + i * 3_000, f"Failed password for root from 1.2.3.4 port {i} ssh2")
        for i in range(20)
    ]
    a = [(f.analytic_uid, f.title) for f in run(events)]
    b = [(f.analytic_uid, f.title) for f in run(events[::-1])]
    assert a == b and a


def test_max_events_bound() -> None:
    det = UebaDetector(UebaConfig(max_events=5))
    det.observe([ssh(T0 + i, "Failed password for x from 1.1.1.1 port 1 ssh2") for i in range(9)])
    assert det.stats()["auth_events_dropped"] == 4


def test_the_same_batch_is_learnt_once(tmp_path: Path) -> None:
    state = StateDB(tmp_path / "state.db")
    events = routine(7)
    run(events, state)
    once = Baseline(state).user("alice").successes
    run(events, state)  # the same file hunted again
    assert Baseline(state).user("alice").successes == once == 5 * 16
    state.close()
