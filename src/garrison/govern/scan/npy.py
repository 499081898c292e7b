"""NumPy ``.npy``: a header, then raw numbers, or a pickle when the dtype holds objects.

The header is a Python literal (numpy parses it with ``ast.literal_eval``: nothing is
imported). ``np.save`` writes an array of objects with ``pickle.dump`` after the header;
``np.load(allow_pickle=True)`` runs it, so that stream is scanned like any other pickle.
A numeric array is safe when the file holds all of its bytes.
"""

from __future__ import annotations

import io
import math
from typing import Any

from garrison.govern.scan.machine import Context, walk_pickle
from garrison.govern.scan.report import Finding, Scan, Unreadable

MAGIC = b"\x93NUMPY"


def scan_npy(data: bytes, ctx: Context, scan: Scan, *, objects_allowed: bool = True) -> None:
    """Scan one ``.npy``; ``objects_allowed=False`` (inside skops) makes any object array a
    finding, since that format never stores one as a pickle."""
    shape, dtype, offset = _header(data)
    if not dtype.hasobject:
        need = offset + math.prod(shape) * dtype.itemsize
        if len(data) < need:
            raise Unreadable(f"numpy array truncated: {len(data)} of {need} bytes")
        return
    if not objects_allowed:
        scan.add(
            Finding("object-array", None, None, offset, "npy", ctx.member, "a pickled object array")
        )
    walk_pickle(data, offset, ctx, scan)


def _header(data: bytes) -> tuple[tuple[int, ...], Any, int]:
    from numpy.lib import format as npformat

    handle = io.BytesIO(data)
    try:
        version = npformat.read_magic(handle)
        # version 3 differs from 2 only by a UTF-8 header; numpy writes its dtypes in ASCII
        read = (
            npformat.read_array_header_1_0 if version == (1, 0) else npformat.read_array_header_2_0
        )
        shape, _fortran, dtype = read(handle)
    except Exception as exc:  # numpy's header parser raises many kinds (TokenError...)
        raise Unreadable(f"not a readable numpy header: {exc}") from None
    return tuple(shape), dtype, handle.tell()
