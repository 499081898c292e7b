"""The lake's writer lock: re-entrant within its thread, exclusive between threads and
between processes, never needed by a reader, and the only licence to remove files no
committed batch refers to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from garrison.core.events import Event, Provenance
from garrison.store import ParquetEventStore, StateDB
from garrison.store.lock import LOCK_NAME, HomeBusy

HOLD = (
    "import fcntl, os, sys, time\n"
    "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
    "fcntl.flock(fd, fcntl.LOCK_EX)\n"
    "os.write(fd, b'pid %d since test' % os.getpid())\n"
    "print('locked', flush=True)\n"
    "sys.stdin.read()\n"
)
PROBE = (
    "import fcntl, os, sys\n"
    "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
    "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept OSError:\n    print('busy')\n"
    "else:\n    print('free')\n"
)


def _events(fp: str, n: int) -> list[Event]:
    return [
        Event(f"{fp}-{i}", 0, 1_600_000_000_000 + i, {}, {}, "{}", Provenance("f", "x", i, fp, 0))
        for i in range(n)
    ]


def _other_process_sees(lake: Path) -> str:
    res = subprocess.run(
        [sys.executable, "-c", PROBE, str(lake / LOCK_NAME)], capture_output=True, text=True
    )
    return res.stdout.strip()


def test_stores_in_one_thread_share_the_lock_until_the_last_closes(home: Path) -> None:
    state = StateDB(home / "state.db")
    first = ParquetEventStore(home / "lake", state, lock_wait=0)
    second = ParquetEventStore(home / "lake", state, lock_wait=0)  # no wait for itself
    assert _other_process_sees(home / "lake") == "busy"
    first.close()
    assert _other_process_sees(home / "lake") == "busy"
    second.close()
    assert _other_process_sees(home / "lake") == "free"
    second.close()  # idempotent


def test_another_thread_of_the_process_waits_its_turn(home: Path) -> None:
    """Two request threads of one server must not write one lake at once: the second
    waits (or gives up after its wait, naming the other thread), then takes its turn."""
    state = StateDB(home / "state.db")
    first = ParquetEventStore(home / "lake", state, lock_wait=0)
    outcome: dict[str, object] = {}

    def second(wait: float) -> None:
        began = time.monotonic()
        try:
            store = ParquetEventStore(home / "lake", state, lock_wait=wait)
        except HomeBusy as exc:
            outcome["refused"] = str(exc)
        else:
            outcome["waited"] = time.monotonic() - began
            store.close()

    refused = threading.Thread(target=second, args=(0.2,))
    refused.start()
    refused.join()
    assert "another thread of this process" in str(outcome.pop("refused"))
    waiter = threading.Thread(target=second, args=(30.0,))
    waiter.start()
    time.sleep(0.3)
    assert waiter.is_alive()  # still waiting for its turn
    first.close()
    waiter.join(timeout=30)
    assert float(outcome["waited"]) >= 0.3  # type: ignore[arg-type]
    assert _other_process_sees(home / "lake") == "free"


@pytest.fixture()
def held_lake(home: Path):  # type: ignore[no-untyped-def]
    """The lake's lock held by another live process."""
    lake = home / "lake"
    lake.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lake / LOCK_NAME)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    yield lake, proc.pid
    proc.kill()
    proc.wait()


def test_a_second_writer_waits_then_gives_up_naming_the_holder(held_lake, home: Path) -> None:  # type: ignore[no-untyped-def]
    lake, pid = held_lake
    # a file the live writer wrote and has not committed yet
    pending = lake / "source=x" / "day=2020-09-13" / "cafe.parquet"
    pending.parent.mkdir(parents=True)
    pending.write_bytes(b"PAR1 written, not yet committed")
    with pytest.raises(HomeBusy, match=f"pid {pid}"):
        ParquetEventStore(lake, StateDB(home / "state.db"), lock_wait=0.3)
    assert pending.exists(), "a waiting writer removed a live writer's file"
    reader = ParquetEventStore(lake, StateDB(home / "state.db"), writer=False)
    assert pending.exists() and reader.count() == 0
    with pytest.raises(RuntimeError, match="queries only"):
        reader.write_batch("a", "x", "f", _events("a", 1))


def test_the_lock_is_free_once_its_holder_dies(held_lake, home: Path) -> None:  # type: ignore[no-untyped-def]
    lake, pid = held_lake
    os.kill(pid, signal.SIGKILL)
    store = ParquetEventStore(lake, StateDB(home / "state.db"), lock_wait=10)
    assert store.write_batch("a", "x", "f", _events("a", 3)) == 3
    store.close()
    assert store.count() == 3
