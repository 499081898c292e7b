"""Memory per input file must not grow with the file count (issue 18 item 13).

A hunt over 50,000 one-line files reached 1,030 MB: the lake built one Arrow table per
batch, i.e. per input file, and kept them all until its flush (~12 KB of allocator memory
each, beyond what Python's tracemalloc sees). Small batches are now held as events and
turned into one table per 1,024. This test runs a real hunt (Parquet lake, no detectors)
over 4,000 one-line files and compares memory at 1,500 and 4,000 files, during the run:
the resident set and the Python heap each under a generous per-file bound.
"""

from __future__ import annotations

import gc
import json
import os
import tracemalloc
from pathlib import Path

import pytest

from garrison.core.config import GarrisonConfig
from garrison.pipeline import HuntService
from garrison.store import ParquetEventStore, StateDB

FILES = 4_000
EARLY = 1_500
#: Before the fix: ~14 KB resident and ~0.8 KB of Python heap per file; after: ~0.2 / 0.8.
RSS_PER_FILE = 6_000
HEAP_PER_FILE = 2_000


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.timeout(600)
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc")
def test_memory_per_file_stays_bounded(tmp_path: Path, home: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(FILES):
        event = {"time": 1_700_000_000 + i, "host": f"h{i % 7}", "msg": f"hello {i}"}
        (folder / f"f{i:05}.jsonl").write_text(json.dumps(event) + "\n")
    config = GarrisonConfig(home=home)
    state = StateDB(home / "state.db")
    service = HuntService(config, ParquetEventStore(home / "lake", state), state, detectors=[])
    samples: dict[int, tuple[int, int]] = {}
    seen = [0]

    def progress(_name: str, _total: int) -> None:
        seen[0] += 1
        if seen[0] in (EARLY, FILES):
            gc.collect()
            samples[seen[0]] = (rss(), tracemalloc.get_traced_memory()[0])

    tracemalloc.start()
    try:
        report = service.run([str(folder)], progress)
    finally:
        tracemalloc.stop()
    assert report.total().events_stored == FILES
    span = FILES - EARLY
    rss_growth = (samples[FILES][0] - samples[EARLY][0]) / span
    heap_growth = (samples[FILES][1] - samples[EARLY][1]) / span
    assert rss_growth < RSS_PER_FILE, f"{rss_growth:.0f} bytes resident per file"
    assert heap_growth < HEAP_PER_FILE, f"{heap_growth:.0f} bytes of Python heap per file"
