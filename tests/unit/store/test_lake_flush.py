"""The lake's buffered writes: visible only once committed, never duplicated, crash-safe."""

from __future__ import annotations

from pathlib import Path

from garrison.core.events import Event, Provenance
from garrison.store import ParquetEventStore, StateDB


def _events(fp: str, n: int, t0: int = 1_600_000_000_000) -> list[Event]:
    return [
        Event(f"{fp}-{i}", 0, t0 + i, {}, {"i": i}, "{}", Provenance("f", "x", i, fp, 0))
        for i in range(n)
    ]


def _store(home: Path, flush_events: int = 1000) -> ParquetEventStore:
    return ParquetEventStore(home / "lake", StateDB(home / "state.db"), flush_events)


def test_batches_are_grouped_into_one_file_per_partition(home: Path) -> None:
    store = _store(home)
    for k in range(5):
        assert store.write_batch(f"fp{k}", "x", "f", _events(f"fp{k}", 10)) == 10
    assert store.has_batch("fp3")  # pending batches count as present
    assert store.write_batch("fp3", "x", "f", _events("fp3", 10)) == 0
    store.flush()
    assert len(store.files()) == 1
    assert store.count() == 50
    assert store.sql("SELECT count(DISTINCT uid) FROM events") == [(50,)]


def test_threshold_flushes_on_its_own(home: Path) -> None:
    store = _store(home, flush_events=25)
    for k in range(6):
        store.write_batch(f"fp{k}", "x", "f", _events(f"fp{k}", 10))
    # 30 events reached the threshold after the third batch and the sixth
    reopened = _store(home)
    assert reopened.count() == 60


def test_unflushed_batches_of_a_dead_writer_are_ingested_again(home: Path) -> None:
    store = _store(home)
    store.write_batch("a", "x", "f", _events("a", 5))
    store.flush()
    store.write_batch("b", "x", "f", _events("b", 5))  # never flushed: the process "dies"
    # a complete file written but never committed is left behind too
    stray = home / "lake" / "source=x" / "day=2020-09-13" / "deadbeef.parquet"
    stray.write_bytes(b"PAR1 not committed")
    again = _store(home)
    assert not stray.exists()
    assert not again.has_batch("b") and again.has_batch("a")
    assert again.write_batch("b", "x", "f", _events("b", 5)) == 5
    assert again.sql("SELECT count(*), count(DISTINCT uid) FROM events") == [(10, 10)]


def test_byte_threshold_flushes_large_records(home: Path) -> None:
    """Big records (Windows events are ~17 KB stored) flush by size, not only by count."""
    store = ParquetEventStore(
        home / "lake", StateDB(home / "state.db"), flush_events=10_000, flush_bytes=100_000
    )
    big = "x" * 20_000
    for k in range(3):
        events = [
            Event(f"b{k}-{i}", 0, 1_600_000_000_000, {}, {}, big, Provenance("f", "x", i, "b", 0))
            for i in range(3)
        ]
        store.write_batch(f"b{k}", "x", "f", events)
    # 3 x 60 KB: the second batch crossed 100 KB and was committed without a flush() call
    assert _store(home).count() == 6


def test_text_parquet_cannot_hold_is_escaped_not_fatal(home: Path) -> None:
    store = _store(home)
    ev = Event(
        "s",
        0,
        1_600_000_000_000,
        {"device": {"hostname": "h\udcff"}},
        {},
        "r\udc80",
        Provenance("f", "x", 1, "s", 0),
    )
    store.write_batch("s", "x", "f", [ev])
    assert store.sql("SELECT host, raw FROM events") == [("h\\xff", "r\\x80")]
