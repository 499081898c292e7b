"""The benign background: realistic rhythms, and no accidental attack artefacts."""

from __future__ import annotations

import itertools
import json
import statistics
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest

from garrison.demo.background import generate_background
from garrison.demo.bg_hosts import EDR_DOMAIN
from garrison.demo.context import Gen
from garrison.demo.recorder import Rec
from garrison.demo.scenario import cast_for
from garrison.demo.service import DEFAULT_START
from garrison.demo.world import US_PER_S, World, build_world

#: Text that only the intrusion may produce.
ATTACK_TOKENS = (
    "-enc ",
    "encodedcommand",
    "procdump",
    "psexec",
    "psexesvc",
    "rclone",
    "7z.exe",
    "mimikatz",
    "sekurlsa",
    "lsass.dmp",
    "/node:",
    "schtasks /create /s",
    ".docm",
    "dllregisterserver",
    "\\users\\public\\",
    "sp_databases",
    "remittance",
    "net group",
    "nltest",
    "/etc/shadow",
    "0x1fffff",
)
OFFICE = ("\\winword.exe", "\\excel.exe", "\\outlook.exe", "\\powerpnt.exe")
SHELLS = ("\\cmd.exe", "\\powershell.exe", "\\rundll32.exe", "\\wscript.exe", "\\mshta.exe")


@pytest.fixture(scope="module")
def background() -> tuple[World, Gen]:
    world = build_world(7, 40, 30, 3, DEFAULT_START)
    gen = Gen.create(world, "background")
    generate_background(gen)
    return world, gen


def _text(rec: Rec) -> str:
    if isinstance(rec.data, dict):
        return json.dumps(rec.data).lower()
    return " ".join(str(x) for x in rec.data).lower()


def _hour(time_us: int) -> int:
    return datetime.fromtimestamp(time_us / US_PER_S, tz=UTC).hour


def test_background_has_no_attack_indicators(background: tuple[World, Gen]) -> None:
    world, gen = background
    cast = cast_for(world)
    indicators = {
        cast.lookalike,
        cast.lookalike_ip,
        cast.c2_ip,
        cast.exfil_ip,
        cast.tunnel_domain,
        *cast.dga,
    }
    for sink, rec in gen.rec.all():
        assert not rec.stage
        text = _text(rec)
        for token in ATTACK_TOKENS:
            assert token not in text, (sink, token, text[:300])
        for value in indicators:
            assert value.lower() not in text, (sink, value)


def test_background_has_no_attack_shaped_windows_events(background: tuple[World, Gen]) -> None:
    _, gen = background
    for rec in gen.rec.records["win"]:
        event: dict[str, Any] = rec.data
        assert event["EventID"] not in (10, 7045, 4698)
        if event["EventID"] == 1:
            parent = event["ParentImage"].lower()
            image = event["Image"].lower()
            assert not (parent.endswith(OFFICE) and image.endswith(SHELLS)), event
            assert not parent.endswith("\\rundll32.exe")


def test_background_failures_are_typos_not_guessing(background: tuple[World, Gen]) -> None:
    _, gen = background
    per_source: dict[tuple[str, int], set[str]] = defaultdict(set)
    for rec in gen.rec.records["win"]:
        if rec.data["EventID"] == 4625:
            key = (
                f"{rec.data['Computer']}/{rec.data['IpAddress']}",
                rec.time_us // (3600 * US_PER_S),
            )
            per_source[key].add(rec.data["TargetUserName"])
    assert per_source, "some mistyped passwords are expected"
    assert max(len(users) for users in per_source.values()) == 1
    ssh_fail: dict[tuple[str, int], int] = defaultdict(int)
    for rec in gen.rec.records["auth"]:
        message = rec.data[3]
        assert not message.startswith("Invalid user")
        if message.startswith("Failed password"):
            ssh_fail[(message.split(" from ")[1].split()[0], rec.time_us // (600 * US_PER_S))] += 1
    assert ssh_fail and max(ssh_fail.values()) <= 2


def test_background_nxdomains_are_typos_or_wpad(background: tuple[World, Gen]) -> None:
    _world, gen = background
    typos = set(gen.catalog._typos)
    nx = [r.data["query"] for r in gen.rec.records["dns"] if r.data["rcode"] == 3]
    assert nx
    assert {q for q in nx if not q.startswith("wpad.")} <= typos
    assert any(q.startswith("wpad.") for q in nx)
    assert (
        max(len(label) for r in gen.rec.records["dns"] for label in r.data["query"].split("."))
        <= 40
    )


def test_no_large_uploads_leave_the_network(background: tuple[World, Gen]) -> None:
    _, gen = background
    outbound = [
        r.data for r in gen.rec.records["conn"] if not r.data["id.resp_h"].startswith("10.")
    ]
    assert outbound
    assert max(c["orig_bytes"] for c in outbound) < 100_000_000
    internal = [r.data for r in gen.rec.records["conn"] if r.data["id.resp_h"] == "10.10.9.20"]
    assert max(c["orig_bytes"] for c in internal) > 1_000_000_000  # nightly backups do


def test_office_hours_weekends_and_night_shift(background: tuple[World, Gen]) -> None:
    world, gen = background
    interactive = [
        r for r in gen.rec.records["win"] if r.data["EventID"] == 4624 and r.data["LogonType"] == 2
    ]
    by_day = defaultdict(int)
    for rec in interactive:
        by_day[(rec.time_us - world.start_us) // (86_400 * US_PER_S)] += 1
    assert world.is_weekend(0) and not world.is_weekend(1)
    assert by_day[0] * 4 < by_day[1] and by_day[0] * 4 < by_day[2]
    weekday = [
        r
        for r in interactive
        if not world.is_weekend((r.time_us - world.start_us) // (86_400 * US_PER_S))
    ]
    morning = sum(1 for r in weekday if 7 <= _hour(r.time_us) <= 9)
    assert morning >= 0.8 * len(weekday)
    night_admins = {u.admin_account for u in world.users if u.works_nights}
    assert night_admins
    night_rdp = [
        r
        for r in gen.rec.records["win"]
        if r.data["EventID"] == 4624
        and r.data["LogonType"] == 10
        and r.data["TargetUserName"] in night_admins
    ]
    assert night_rdp and all(_hour(r.time_us) >= 19 or _hour(r.time_us) < 7 for r in night_rdp)


def test_periodic_benign_traffic_looks_like_beacons(background: tuple[World, Gen]) -> None:
    world, gen = background
    edr_ips = {
        ip
        for r in gen.rec.records["dns"]
        if r.data["query"] == EDR_DOMAIN
        for ip in r.data["answers"]
    }
    host = world.workstations[0].ip
    times = sorted(
        r.time_us
        for r in gen.rec.records["conn"]
        if r.data["id.orig_h"] == host and r.data["id.resp_h"] in edr_ips
    )
    gaps = [(b - a) / US_PER_S for a, b in itertools.pairwise(times)]
    assert len(gaps) > 200
    assert 880 <= statistics.median(gaps) <= 920
    assert all(800 <= g <= 1000 for g in gaps)


def test_typo_then_success_at_the_workstation(background: tuple[World, Gen]) -> None:
    _, gen = background
    events = [
        r
        for r in gen.rec.records["win"]
        if r.data["EventID"] in (4624, 4625) and r.data["LogonType"] == 2
    ]
    events.sort(key=lambda r: r.time_us)
    fails = [r for r in events if r.data["EventID"] == 4625]
    assert fails
    for fail in fails:
        assert any(
            r.data["EventID"] == 4624
            and r.data["TargetUserName"] == fail.data["TargetUserName"]
            and r.data["Computer"] == fail.data["Computer"]
            and 0 < r.time_us - fail.time_us <= 30 * US_PER_S
            for r in events
        )
