"""Giving freed memory back to the operating system after a large, finished job.

CPython frees objects to its own allocator and to the C library's ``malloc``; glibc keeps
freed memory at the top of its heaps for reuse and returns it only when asked or when a
threshold is crossed, so a long-lived process (``garrison serve``) that ran one large hunt
keeps its peak size. ``malloc_trim(0)`` returns what is free. Elsewhere (musl, macOS) there
is nothing to call and this does nothing.

>>> release_free_memory() in (True, False)
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_free_memory() -> bool:
    """Return the C heap's free memory to the operating system (glibc); True if it did."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
