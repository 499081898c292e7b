"""What ``ml.egress`` remembers between runs, in the state database.

Per internal source and UTC day: the bytes it sent outside in all, and the most it sent to
any one outside address (``max_pair``): the host's own upload record, which a new transfer
is compared with. Per outside address: when it was first and last sent to, and which
internal hosts sent to it (up to ``CLIENTS_KEPT``; more make it "popular"), for the fleet
prevalence of a destination. Ingest batches already learnt are remembered by their content
fingerprint, so a file hunted twice is scored twice but learnt once (daily totals add up;
the daily maximum is a maximum, so learning it again changes nothing).

Only the sources and destinations a run needs are read (one query per lookup group), and
everything learnt is written back in one transaction at the end of the run, so a run that
crashes leaves the previous baseline intact. Destinations not sent to for
``retention_days`` (counted back from the newest event learnt, not the wall clock: old
logs hunted today must not be forgotten at once) are forgotten. ``state=None`` keeps
everything in memory (tests, evaluations).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from garrison.store.state import StateDB

DDL = """
CREATE TABLE IF NOT EXISTS egress_source_days (
    source TEXT NOT NULL, day INTEGER NOT NULL, bytes_out INTEGER NOT NULL,
    max_pair INTEGER NOT NULL, PRIMARY KEY (source, day));
CREATE TABLE IF NOT EXISTS egress_destinations (
    dst TEXT PRIMARY KEY, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
    sources TEXT NOT NULL, popular INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS egress_batches (fingerprint TEXT PRIMARY KEY, learnt_at INTEGER);
"""
DAY_MS = 86_400_000
#: Distinct internal senders kept per destination; a destination with more is "popular".
CLIENTS_KEPT = 16
_CHUNK = 500


@dataclass(slots=True)
class DestinationRecord:
    first_seen: int
    last_seen: int
    sources: set[str] = field(default_factory=set)
    popular: bool = False

    def add(self, source: str, time: int) -> None:
        self.first_seen = min(self.first_seen, time)
        self.last_seen = max(self.last_seen, time)
        if self.popular:
            return
        self.sources.add(source)
        if len(self.sources) > CLIENTS_KEPT:
            self.popular = True
            self.sources = set(sorted(self.sources)[:CLIENTS_KEPT])

    @property
    def clients(self) -> int:
        """Distinct internal senders (``CLIENTS_KEPT + 1`` standing for "more")."""
        return CLIENTS_KEPT + 1 if self.popular else len(self.sources)


@dataclass(slots=True)
class DayFigures:
    bytes_out: int = 0
    max_pair: int = 0


class EgressBaseline:
    def __init__(self, state: StateDB | None = None, retention_days: int = 90) -> None:
        self.state = state
        self.retention_days = retention_days
        if state is not None:
            state.ensure(DDL)

    # -- reading -------------------------------------------------------------------------
    def source_days(self, sources: Iterable[str], since_day: int) -> dict[str, dict[int, int]]:
        """source -> {day: max_pair} for days >= ``since_day`` (stored history only)."""
        out: dict[str, dict[int, int]] = {}
        if self.state is None:
            return out
        for chunk in _chunks(sorted(set(sources))):
            marks = ",".join("?" * len(chunk))
            rows = self.state.query(
                f"SELECT source, day, max_pair FROM egress_source_days "  # noqa: S608 - only '?' placeholders are interpolated; values are bound
                f"WHERE day >= ? AND source IN ({marks})",
                (since_day, *chunk),
            )
            for source, day, max_pair in rows:
                out.setdefault(str(source), {})[_int(day)] = _int(max_pair)
        return out

    def fleet_days(self, since_day: int, limit: int = 200_000) -> list[tuple[str, int, int]]:
        """(source, day, max_pair) of every source since ``since_day``, newest first."""
        if self.state is None:
            return []
        rows = self.state.query(
            "SELECT source, day, max_pair FROM egress_source_days WHERE day >= ? "
            "ORDER BY day DESC LIMIT ?",
            (since_day, limit),
        )
        return [(str(s), _int(d), _int(m)) for s, d, m in rows]

    def destinations(self, dsts: Iterable[str]) -> dict[str, DestinationRecord]:
        out: dict[str, DestinationRecord] = {}
        if self.state is None:
            return out
        for chunk in _chunks(sorted(set(dsts))):
            marks = ",".join("?" * len(chunk))
            rows = self.state.query(
                f"SELECT dst, first_seen, last_seen, sources, popular FROM egress_destinations "  # noqa: S608 - only '?' placeholders are interpolated; values are bound
                f"WHERE dst IN ({marks})",
                tuple(chunk),
            )
            for dst, first, last, sources, popular in rows:
                names = {s for s in str(sources or "").split(",") if s}
                out[str(dst)] = DestinationRecord(_int(first), _int(last), names, bool(popular))
        return out

    def learnt_batches(self, fingerprints: Iterable[str]) -> set[str]:
        found: set[str] = set()
        if self.state is None:
            return found
        for chunk in _chunks(sorted(set(fingerprints))):
            marks = ",".join("?" * len(chunk))
            rows = self.state.query(
                f"SELECT fingerprint FROM egress_batches WHERE fingerprint IN ({marks})",  # noqa: S608 - only '?' placeholders are interpolated; values are bound
                tuple(chunk),
            )
            found.update(str(r[0]) for r in rows)
        return found

    # -- writing -------------------------------------------------------------------------
    def save(
        self,
        days: dict[tuple[str, int], DayFigures],
        destinations: dict[str, DestinationRecord],
        batches: Iterable[str],
        now: int,
        newest: int,
    ) -> None:
        """Add the run's new figures to the stored ones, in one transaction."""
        if self.state is None:
            return
        stored = self.destinations(destinations)
        with self.state.transaction() as conn:
            conn.executemany(
                "INSERT INTO egress_source_days VALUES (?, ?, ?, ?) "
                "ON CONFLICT(source, day) DO UPDATE SET "
                "bytes_out = bytes_out + excluded.bytes_out, "
                "max_pair = MAX(max_pair, excluded.max_pair)",
                [(s, d, f.bytes_out, f.max_pair) for (s, d), f in days.items()],
            )
            rows = []
            for dst, rec in destinations.items():
                old = stored.get(dst)
                if old is not None:
                    for source in sorted(rec.sources):
                        old.add(source, rec.first_seen)
                    old.first_seen = min(old.first_seen, rec.first_seen)
                    old.last_seen = max(old.last_seen, rec.last_seen)
                    old.popular = old.popular or rec.popular
                    rec = old
                rows.append(
                    (
                        dst,
                        rec.first_seen,
                        rec.last_seen,
                        ",".join(sorted(rec.sources)),
                        int(rec.popular),
                    )
                )
            conn.executemany(
                "INSERT OR REPLACE INTO egress_destinations VALUES (?, ?, ?, ?, ?)", rows
            )
            conn.executemany(
                "INSERT OR IGNORE INTO egress_batches VALUES (?, ?)",
                [(b, now) for b in sorted(set(batches))],
            )
            if self.retention_days > 0 and newest > 0:
                horizon = newest - self.retention_days * DAY_MS
                conn.execute("DELETE FROM egress_destinations WHERE last_seen < ?", (horizon,))
                conn.execute("DELETE FROM egress_source_days WHERE day < ?", (horizon // DAY_MS,))


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return 0
