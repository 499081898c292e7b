"""Generated benign authentication background to replay real attack events over.

The LANL red-team file holds only the 749 attack events, and the Mordor captures a handful
of logons each: neither says what normal looks like, and UEBA is all about normal. This
generator makes a Windows domain's worth of ordinary logons, seeded and deterministic.

Assumptions (they drive every false-positive figure measured on it):

* Every user has one workstation and 2-5 usual servers (drawn with Zipf-like popularity
  from a pool), works weekdays from a personal start hour (normal around 08:30 UTC,
  sd 1 h; 4 % work a night shift from 21:00) for 8-10 h, and works on 10 % of weekend days.
* A working day is one interactive logon (type 2) on the own workstation, then a Poisson
  (mean 8) number of network logons (type 3) to usual servers spread over the day.
* Ordinary noise that a real network has and that UEBA must live with: 2 % of network
  logons are preceded by one failure (a typo); 0.3 % of user-days start with a burst of
  4-8 failures and then a success (forgotten password); 1.5 % of user-days touch a server
  the user never used; 0.5 % of user-days log on from another user's workstation
  (hot-desking).
* Administrators (2 % of users) log on to 3-8 servers a day, and on 20 % of weekdays run
  a maintenance round over 10-25 servers within 45 minutes (benign fan-out).
* Service accounts run a nightly job from one server to every server (01:00-01:30).
* Events are Windows Security 4624 / 4625 records in the house flat-field convention
  (``EventID``, ``Computer`` = the target, ``TargetUserName``, ``TargetDomainName``,
  ``WorkstationName``, ``IpAddress``, ``LogonType``), so the detector reads them exactly
  as it reads real ones. There are no machine-account logons and no Kerberos events.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from garrison.core.events import CLASS_AUTHENTICATION, Event, Provenance

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
#: Day 0 of a replay: Monday 2024-01-01 00:00 UTC.
EPOCH_MS = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)


@dataclass(slots=True)
class Person:
    name: str
    workstation: str
    ip: str | None
    servers: list[str]
    start_hour: float
    hours: float
    admin: bool = False


@dataclass(slots=True)
class BackgroundSpec:
    users: list[str]
    #: Workstation for each user (by name); others get generated ones.
    workstations: dict[str, str] = field(default_factory=dict)
    ips: dict[str, str] = field(default_factory=dict)
    servers: list[str] = field(default_factory=list)
    domain: str = "DOM1"
    days: int = 32
    start_ms: int = EPOCH_MS
    seed: int = 7
    service_accounts: int = 3
    source_name: str = "generated:background"


def _windows_event(
    uid: int,
    time: int,
    user: str,
    domain: str,
    target: str,
    workstation: str | None,
    ip: str | None,
    logon_type: int,
    ok: bool,
    source_name: str,
) -> Event:
    fields = {
        "EventID": 4624 if ok else 4625,
        "Channel": "Security",
        "Provider_Name": "Microsoft-Windows-Security-Auditing",
        "Computer": target,
        "TargetUserName": user,
        "TargetDomainName": domain,
        "WorkstationName": workstation or "-",
        "IpAddress": ip or "-",
        "LogonType": str(logon_type),
    }
    prov = Provenance(source_name, "generated", uid, "generated", 0)
    return Event(f"{source_name}:{uid}", CLASS_AUTHENTICATION, time, {}, fields, "", prov)


class _Builder:
    def __init__(self, spec: BackgroundSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)  # noqa: S311 - seeded synthetic data, reproducible on purpose; never a secret
        self.events: list[Event] = []

    def add(
        self,
        time: int,
        user: str,
        target: str,
        workstation: str | None,
        ip: str | None,
        logon_type: int,
        ok: bool = True,
    ) -> None:
        self.events.append(
            _windows_event(
                len(self.events) + 1,
                time,
                user,
                self.spec.domain,
                target,
                workstation,
                ip,
                logon_type,
                ok,
                self.spec.source_name,
            )
        )

    def people(self) -> list[Person]:
        rng, spec = self.rng, self.spec
        servers = spec.servers or [f"S{i:03d}" for i in range(40)]
        weights = [1.0 / (i + 1) for i in range(len(servers))]
        out = []
        for i, name in enumerate(spec.users):
            ws = spec.workstations.get(name, f"W{i:05d}")
            k = rng.randint(2, 5)
            usual = list(dict.fromkeys(rng.choices(servers, weights=weights, k=k)))
            night = rng.random() < 0.04
            start = 21.0 if night else min(max(rng.gauss(8.5, 1.0), 5.0), 12.0)
            out.append(
                Person(
                    name,
                    ws,
                    spec.ips.get(name),
                    usual,
                    start,
                    rng.uniform(8, 10),
                    admin=rng.random() < 0.02,
                )
            )
        return out

    def day(
        self,
        person: Person,
        day: int,
        servers: list[str],
        workstations: list[tuple[str, str | None]],
    ) -> None:
        rng = self.rng
        weekend = day % 7 in (5, 6)
        if weekend and rng.random() > 0.10:
            return
        start = (
            self.spec.start_ms
            + day * DAY_MS
            + int(person.start_hour * HOUR_MS + rng.gauss(0, 0.4) * HOUR_MS)
        )
        end = start + int(person.hours * HOUR_MS)
        ws, ip = person.workstation, person.ip
        if rng.random() < 0.003:  # forgotten password
            t = start - 10 * 60_000
            for _ in range(rng.randint(4, 8)):
                t += rng.randint(5_000, 60_000)
                self.add(t, person.name, ws, ws, ip, 2, ok=False)
        self.add(start, person.name, ws, ws, ip, 2)
        if rng.random() < 0.005:  # hot-desking: another user's workstation today
            ws, ip = rng.choice(workstations)
        targets = list(person.servers)
        if rng.random() < 0.015:
            targets.append(rng.choice(servers))
        n = _poisson(rng, 8.0) + (len(targets) - len(person.servers))
        for j in range(n):
            t = rng.randint(start, end)
            target = (
                targets[-1]
                if j == 0 and len(targets) > len(person.servers)
                else rng.choice(targets)
            )
            if rng.random() < 0.02:
                self.add(t - rng.randint(2_000, 20_000), person.name, target, ws, ip, 3, ok=False)
            self.add(t, person.name, target, ws, ip, 3)
        if person.admin:
            for target in rng.sample(servers, rng.randint(3, 8)):
                self.add(rng.randint(start, end), person.name, target, ws, ip, 3)
            if not weekend and rng.random() < 0.2:
                t = rng.randint(start, end - HOUR_MS)
                for target in rng.sample(servers, rng.randint(10, min(25, len(servers)))):
                    self.add(t + rng.randint(0, 45 * 60_000), person.name, target, ws, ip, 3)

    def service_jobs(self, day: int, servers: list[str]) -> None:
        for k in range(self.spec.service_accounts):
            origin = servers[k % len(servers)]
            base = self.spec.start_ms + day * DAY_MS + HOUR_MS
            for target in servers:
                self.add(
                    base + self.rng.randint(0, 30 * 60_000), f"svc_job{k}", target, origin, None, 3
                )


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; fine for small means."""
    limit, k, p = pow(2.718281828459045, -mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def generate(spec: BackgroundSpec) -> list[Event]:
    """The background events, sorted by time, with record ids 1..n in generation order."""
    builder = _Builder(spec)
    people = builder.people()
    servers = spec.servers or [f"S{i:03d}" for i in range(40)]
    workstations = [(p.workstation, p.ip) for p in people]
    for day in range(spec.days):
        for person in people:
            builder.day(person, day, servers, workstations)
        builder.service_jobs(day, servers)
    return sorted(builder.events, key=lambda e: e.time)


def replay_event(
    uid: int,
    time: int,
    user: str,
    domain: str,
    src: str,
    dst: str,
    source_name: str,
    ip: str | None = None,
) -> Event:
    """An attack record rendered as a successful network logon (4624, type 3)."""
    return _windows_event(uid, time, user, domain, dst, src, ip, 3, True, source_name)


def merge(*streams: Iterable[Event]) -> list[Event]:
    return sorted((e for s in streams for e in s), key=lambda e: e.time)
