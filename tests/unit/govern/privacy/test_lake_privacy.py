"""The lake side of privacy: ``ParquetEventStore.replace_files`` is all-or-nothing and keeps
the catalog's counts honest; retention picks exactly the partitions past their limit;
the subject search finds whole-word mentions in OCSF, fields and raw text."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from garrison.core.errors import StorageError
from garrison.core.events import Event, Provenance
from garrison.govern.privacy import Matcher
from garrison.govern.privacy.lake import cutoff_day, expired, partitions, subject_hits
from garrison.store import lake as lake_module
from garrison.store.lake import ParquetEventStore
from garrison.store.state import StateDB

DAY = 86_400_000
NOW = 1_796_600_000_000  # 2026-12-06
USERS = ("alice", "bob", "carol")


def event(i: int, fmt: str, day: int, fp: str) -> Event:
    user = USERS[i % 3]
    ocsf = {"class_uid": 3002, "user": {"name": user}, "time": NOW - day * DAY}
    fields = {"user": user, "message": f"login {user}"}
    return Event(
        f"{fp[:8]}{i:012x}",
        3002,
        NOW - day * DAY,
        ocsf,
        fields,
        f"raw line for {user}",
        Provenance(f"/logs/{fmt}", fmt, i, fp, 0),
    )


def lake(tmp_path: Path) -> ParquetEventStore:
    state = StateDB(tmp_path / "state.db")
    store = ParquetEventStore(tmp_path / "lake", state, flush_events=10_000)
    for fmt, days, fp in (("syslog", (0, 40), "a" * 64), ("jsonl", (0, 40, 400), "b" * 64)):
        events = [event(i, fmt, d, fp) for d in days for i in range(30)]
        store.write_batch(fp, fmt, f"/logs/{fmt}", events)
    store.flush()
    return store


def test_replace_files_removes_rows_and_lowers_counts(tmp_path: Path) -> None:
    store = lake(tmp_path)
    assert store.count() == 150
    matcher = Matcher(["ALICE"])
    hits = list(subject_hits(store, matcher))
    assert sum(h.count for h in hits) == 50 and len(hits) == 5
    old = [h.path for h in hits]
    removed = store.replace_files({h.path: h.kept() for h in hits})
    assert removed == {"a" * 64: 20, "b" * 64: 30}
    assert store.count() == 100
    assert store.sql("SELECT count(*) FROM events WHERE user = 'alice'") == [(0,)]
    assert store.sql("SELECT count(*) FROM events")[0][0] == 100
    assert not any(p.exists() for p in old)
    assert not list(subject_hits(store, matcher))
    on_disk = sorted(str(p) for p in (tmp_path / "lake").rglob("*.parquet"))
    assert on_disk == sorted(str(p) for p in store.files())


def test_a_failed_replace_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = lake(tmp_path)
    before_files, before_count = store.files(), store.count()
    hits = list(subject_hits(store, Matcher(["bob"])))
    real = pq.write_table
    calls = {"n": 0}

    def full_disk(*args, **kwargs):  # the second file fails: disk full
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(lake_module.pq, "write_table", full_disk)
    with pytest.raises(StorageError, match="disk full"):
        store.replace_files({h.path: h.kept() for h in hits})
    assert store.files() == before_files and store.count() == before_count
    assert sorted((tmp_path / "lake").rglob("*.parquet")) == sorted(before_files)
    assert not list((tmp_path / "lake").rglob("*.tmp*"))


def test_a_batch_emptied_keeps_its_row_so_it_is_not_stored_again(tmp_path: Path) -> None:
    store = lake(tmp_path)
    syslog = [p for p in store.files() if "source=syslog" in str(p)]
    store.replace_files({p: None for p in syslog})
    assert store.count() == 90 and store.has_batch("a" * 64)
    assert (
        store.write_batch("a" * 64, "syslog", "/logs/syslog", [event(1, "syslog", 0, "a" * 64)])
        == 0
    )
    # the row stays with no event and no longer lists the removed files (a flush group's
    # listing is shared by its batches: the jsonl files stay listed)
    ((files, events),) = store.state.query(
        "SELECT files, events FROM lake_batches WHERE fingerprint = ?", ("a" * 64,)
    )
    assert events == 0 and "source=syslog" not in str(files)


def test_retention_picks_only_partitions_past_the_limit(tmp_path: Path) -> None:
    store = lake(tmp_path)
    parts = {(p.source, p.day): p.events for p in partitions(store)}
    assert len(parts) == 5 and set(parts.values()) == {30}
    due = expired(store, {"jsonl": 30}, NOW)
    assert [(p.source, days) for p, days in due] == [("jsonl", 30), ("jsonl", 30)]
    assert all(p.day < cutoff_day(30, NOW) for p, _ in due)
    assert [p.day for p, _ in expired(store, {"jsonl": 365, "syslog": 365}, NOW)] == [
        cutoff_day(400 - 365, NOW - 365 * DAY)  # the 400-day-old jsonl partition only
    ]
    assert expired(store, {"zeek": 1}, NOW) == []


def test_cutoff_day() -> None:
    assert cutoff_day(1, NOW) == "2026-12-05"
