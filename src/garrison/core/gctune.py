"""Garbage-collector settings for the allocation-heavy parts of a hunt.

Python's cyclic collector rescans every tracked object each time enough new ones appear.
A hunt allocates millions of short-lived, acyclic dicts (normalization, findings) while large
long-lived structures (compiled rules, per-pair state) stay alive, so the default settings
spend a large share of the run re-scanning objects that can never be garbage. Reference
counting still frees everything as usual under both helpers.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection inside the block (bulk building of long-lived objects).

    Measured: halves Sigma rule load and bucket time; ~25 % off correlating 300k findings.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def allocation_heavy() -> Iterator[None]:
    """A first-generation threshold of 50,000 instead of 700 inside the block.

    Measured on the 277 EVTX attack samples: 24-26k -> 35-37k records/s ingested.
    """
    before = gc.get_threshold()
    gc.set_threshold(50_000, max(before[1], 20), max(before[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*before)
