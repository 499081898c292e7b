"""Per-entity baselines, kept between runs in the state database.

What is remembered, per user: the source networks (/24 for IPv4, /64 for IPv6), source
workstations and target hosts it authenticated from/to with first/last seen and counts;
its hour-of-day histogram of successful logons (UTC); its success/failure totals, active
hours and the most distinct hosts it reached within one hour. Per peer group: the
hour-of-day histogram. Per source: failures and active hours. Globally: the first and last
event time ever learnt, which decides the warm-up.

Profiles are loaded lazily (one SELECT per entity on first touch) and written back in one
transaction at the end of the run, so a run that crashes leaves the previous baseline
intact. ``state=None`` keeps everything in memory (tests, evaluations).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from garrison.store.state import StateDB

DDL = """
CREATE TABLE IF NOT EXISTS ueba_seen (
    user TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
    first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (user, kind, value));
CREATE TABLE IF NOT EXISTS ueba_hours (
    scope TEXT NOT NULL, name TEXT NOT NULL, hour INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (scope, name, hour));
CREATE TABLE IF NOT EXISTS ueba_users (
    user TEXT PRIMARY KEY, grp TEXT NOT NULL, first_seen INTEGER, last_seen INTEGER,
    successes INTEGER NOT NULL, failures INTEGER NOT NULL, active_hours INTEGER NOT NULL,
    max_hosts_per_hour INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ueba_sources (
    source TEXT PRIMARY KEY, failures INTEGER NOT NULL, successes INTEGER NOT NULL,
    active_hours INTEGER NOT NULL, max_hosts_per_hour INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ueba_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ueba_batches (fingerprint TEXT PRIMARY KEY, learnt_at INTEGER);
"""

SEEN_KINDS = ("src_net", "src_host", "dst_host")
HOUR_MS = 3_600_000


def network_of(ip: str | None) -> str | None:
    """The /24 (IPv4) or /64 (IPv6) an address belongs to: a country-less "network"."""
    if not ip:
        return None
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if addr.version == 4 else 64
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


@dataclass(slots=True)
class UserProfile:
    user: str
    group: str = "default"
    first_seen: int | None = None
    last_seen: int | None = None
    successes: int = 0
    failures: int = 0
    active_hours: int = 0
    max_hosts_per_hour: int = 0
    seen: dict[str, dict[str, list[int]]] = field(
        default_factory=lambda: {k: {} for k in SEEN_KINDS}
    )  # value -> [first, last, n]
    hours: list[int] = field(default_factory=lambda: [0] * 24)

    def span_ms(self) -> int:
        if self.first_seen is None or self.last_seen is None:
            return 0
        return self.last_seen - self.first_seen


@dataclass(slots=True)
class SourceProfile:
    source: str
    failures: int = 0
    successes: int = 0
    active_hours: int = 0
    max_hosts_per_hour: int = 0


class Baseline:
    def __init__(self, state: StateDB | None = None) -> None:
        self.state = state
        if state is not None:
            state.ensure(DDL)
        self.users: dict[str, UserProfile] = {}
        self.groups: dict[str, list[int]] = {}
        self.sources: dict[str, SourceProfile] = {}
        self.first_time: int | None = None
        self.last_time: int | None = None
        self.events = 0
        #: host -> users that have logged on to it (for "popular host" checks).
        self.host_users: dict[str, int] = {}
        self.known_users = 0
        if state is not None:
            for host, users in state.query(
                "SELECT value, COUNT(*) FROM ueba_seen WHERE kind='dst_host' GROUP BY value"
            ):
                self.host_users[str(host)] = _int(users)
            self.known_users = _int(state.query("SELECT COUNT(*) FROM ueba_users")[0][0])
            meta = {str(k): v for k, v in state.query("SELECT key, value FROM ueba_meta")}
            self.first_time = _int_or_none(meta.get("first_time"))
            self.last_time = _int_or_none(meta.get("last_time"))
            self.events = _int(meta.get("events"))

    # -- reading ---------------------------------------------------------------------
    def span_ms(self) -> int:
        if self.first_time is None or self.last_time is None:
            return 0
        return self.last_time - self.first_time

    def user(self, name: str, group: str = "default") -> UserProfile:
        profile = self.users.get(name)
        if profile is None:
            loaded = self._load_user(name)
            if loaded is None:
                self.known_users += 1
            profile = loaded or UserProfile(name, group)
            self.users[name] = profile
        return profile

    def group_hours(self, group: str) -> list[int]:
        hours = self.groups.get(group)
        if hours is None:
            hours = [0] * 24
            if self.state is not None:
                for hour, count in self.state.query(
                    "SELECT hour, count FROM ueba_hours WHERE scope='group' AND name=?", (group,)
                ):
                    if isinstance(hour, int) and 0 <= hour < 24:
                        hours[hour] = _int(count)
            self.groups[group] = hours
        return hours

    def source(self, name: str) -> SourceProfile:
        profile = self.sources.get(name)
        if profile is None:
            profile = SourceProfile(name)
            if self.state is not None:
                rows = self.state.query(
                    "SELECT failures, successes, active_hours, "
                    "max_hosts_per_hour FROM ueba_sources WHERE source=?",
                    (name,),
                )
                if rows:
                    f, s, h, m = (_int(v) for v in rows[0])
                    profile = SourceProfile(name, f, s, h, m)
            self.sources[name] = profile
        return profile

    def _load_user(self, name: str) -> UserProfile | None:
        if self.state is None:
            return None
        rows = self.state.query(
            "SELECT grp, first_seen, last_seen, successes, failures, active_hours, "
            "max_hosts_per_hour FROM ueba_users WHERE user=?",
            (name,),
        )
        if not rows:
            return None
        grp, first, last, succ, fail, active, max_hosts = rows[0]
        profile = UserProfile(
            name,
            str(grp),
            _int_or_none(first),
            _int_or_none(last),
            _int(succ),
            _int(fail),
            _int(active),
            _int(max_hosts),
        )
        for kind, value, f_seen, l_seen, count in self.state.query(
            "SELECT kind, value, first_seen, last_seen, count FROM ueba_seen WHERE user=?", (name,)
        ):
            if kind in profile.seen:
                profile.seen[str(kind)][str(value)] = [_int(f_seen), _int(l_seen), _int(count)]
        for hour, count in self.state.query(
            "SELECT hour, count FROM ueba_hours WHERE scope='user' AND name=?", (name,)
        ):
            if isinstance(hour, int) and 0 <= hour < 24:
                profile.hours[hour] = _int(count)
        return profile

    def learnt_batches(self, fingerprints: set[str]) -> set[str]:
        """Which of these ingest batches earlier runs have already learnt from."""
        if self.state is None or not fingerprints:
            return set()
        found: set[str] = set()
        items = sorted(fingerprints)
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.state.query(
                f"SELECT fingerprint FROM ueba_batches WHERE fingerprint IN ({marks})",  # noqa: S608 - only '?' placeholders are interpolated; values are bound
                tuple(chunk),
            )
            found.update(str(r[0]) for r in rows)
        return found

    def remember_batches(self, fingerprints: set[str], now: int) -> None:
        if self.state is None or not fingerprints:
            return
        with self.state.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO ueba_batches VALUES (?, ?)",
                [(f, now) for f in sorted(fingerprints)],
            )

    # -- learning --------------------------------------------------------------------
    def note_time(self, time: int) -> None:
        self.first_time = time if self.first_time is None else min(self.first_time, time)
        self.last_time = time if self.last_time is None else max(self.last_time, time)
        self.events += 1

    # -- writing ---------------------------------------------------------------------
    def save(self) -> None:
        """Write every touched profile back in one transaction."""
        if self.state is None:
            return
        with self.state.transaction() as conn:
            for key, value in (
                ("first_time", self.first_time),
                ("last_time", self.last_time),
                ("events", self.events),
            ):
                if value is not None:
                    conn.execute("INSERT OR REPLACE INTO ueba_meta VALUES (?, ?)", (key, value))
            for p in self.users.values():
                conn.execute(
                    "INSERT OR REPLACE INTO ueba_users VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        p.user,
                        p.group,
                        p.first_seen,
                        p.last_seen,
                        p.successes,
                        p.failures,
                        p.active_hours,
                        p.max_hosts_per_hour,
                    ),
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO ueba_seen VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (p.user, kind, value, v[0], v[1], v[2])
                        for kind, values in p.seen.items()
                        for value, v in values.items()
                    ],
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO ueba_hours VALUES ('user', ?, ?, ?)",
                    [(p.user, h, c) for h, c in enumerate(p.hours) if c],
                )
            for group, hours in self.groups.items():
                conn.executemany(
                    "INSERT OR REPLACE INTO ueba_hours VALUES ('group', ?, ?, ?)",
                    [(group, h, c) for h, c in enumerate(hours) if c],
                )
            conn.executemany(
                "INSERT OR REPLACE INTO ueba_sources VALUES (?, ?, ?, ?, ?)",
                [
                    (s.source, s.failures, s.successes, s.active_hours, s.max_hosts_per_hour)
                    for s in self.sources.values()
                ],
            )


def _int(value: object) -> int:
    """An integer from a database cell; anything unreadable counts as 0."""
    got = _int_or_none(value)
    return 0 if got is None else got


def _int_or_none(value: object) -> int | None:
    try:
        return None if value is None else int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return None


def forget_users(state: StateDB, is_subject: Callable[[str], bool]) -> int:
    """Remove the learnt profile (logon history, hours, places) of every user for whom
    ``is_subject(name)`` holds: data-subject deletion (``garrison privacy delete``). Group
    hours and source totals keep the person's contribution, which names nobody. Returns
    how many users were forgotten."""
    state.ensure(DDL)
    names = {
        str(r[0])
        for r in state.query("SELECT user FROM ueba_users UNION SELECT user FROM ueba_seen")
    }
    gone = sorted(n for n in names if is_subject(n))
    with state.transaction() as conn:
        for table, column in (("ueba_users", "user"), ("ueba_seen", "user")):
            sql = f"DELETE FROM {table} WHERE {column} = ?"  # noqa: S608 - constant names
            conn.executemany(sql, [(n,) for n in gone])
        conn.executemany(
            "DELETE FROM ueba_hours WHERE scope = 'user' AND name = ?", [(n,) for n in gone]
        )
    return len(gone)
