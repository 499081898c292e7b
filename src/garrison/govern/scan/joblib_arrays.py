"""joblib's inline arrays: where the bytes after a ``NumpyArrayWrapper`` end.

``joblib.dump`` pickles each numpy array as a ``NumpyArrayWrapper`` whose state names the
dtype, shape and order, and writes the array right after the wrapper's ``BUILD``: a
numeric array as raw bytes (after one padding-length byte and that much padding when the
state carries ``numpy_array_alignment_bytes``), an array holding objects as a *nested
pickle stream* (scanned like any other). ``joblib.load`` reads them there, so the scanner
sizes them from the wrapper's state the way the loader does, and resumes after them. A
dtype it cannot size exactly makes the file unreadable (never skipped by a guess).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from garrison.govern.scan.report import Unreadable
from garrison.govern.scan.values import Const, Dct, Made, TooLarge, Tup, dict_get, plain

WRAPPER = ("joblib.numpy_pickle", "NumpyArrayWrapper")
_TYPESTR = re.compile(r"^[<>|=]?([?bBhHiIlLqQpPefdgFDGSUVOMmcu]|[biufcSUVOMm])(\d*)$")
_FLEXIBLE = frozenset("SUV")
MAX_FIELD_DEPTH = 8
MAX_FIELDS = 1024


@dataclass(frozen=True, slots=True)
class ArraySpec:
    """What the wrapper says: bytes per item (0 for objects), items, and alignment."""

    itemsize: int
    count: int
    has_object: bool
    aligned: bool


def is_wrapper(made: Made) -> bool:
    return (made.maker.module, made.maker.name) == WRAPPER


def _dtype_parts(value: object) -> tuple[str, tuple[object, ...]]:
    if not (
        isinstance(value, Made) and (value.maker.module, value.maker.name) == ("numpy", "dtype")
    ):
        raise Unreadable("joblib array wrapper without a numpy dtype")
    args = plain(value.args)
    state = value.state.items if isinstance(value.state, Tup) else ()
    if not (isinstance(args, tuple) and args and isinstance(args[0], str)):
        raise Unreadable("joblib array dtype the scanner cannot read")
    return args[0], state


def _has_object(value: object, depth: int = 0) -> bool:
    """Whether a dtype holds objects, its structured fields included (nested at most
    ``MAX_FIELD_DEPTH`` deep: the memo could otherwise make the walk exponential)."""
    if depth > MAX_FIELD_DEPTH:
        raise Unreadable("joblib array dtype nested too deeply")
    typestr, state = _dtype_parts(value)
    if typestr.lstrip("<>|=").startswith("O"):
        return True
    fields = state[4] if len(state) > 4 else None
    if isinstance(fields, Dct):
        return (
            any(
                isinstance(v, Tup) and v.items and _has_object(v.items[0], depth + 1)
                for _, v in fields.pairs[:MAX_FIELDS]
            )
            or len(fields.pairs) > MAX_FIELDS
        )
    return False


def _itemsize(value: object) -> int:
    typestr, state = _dtype_parts(value)
    match = _TYPESTR.match(typestr)
    if match is None:
        raise Unreadable(f"joblib array dtype {typestr!r} the scanner cannot size")
    kind, digits = match.groups()
    elsize = plain(state[5]) if len(state) > 5 else None
    if kind in _FLEXIBLE and isinstance(elsize, int) and elsize > 0:
        return elsize
    if kind == "?" or (kind == "b" and digits == "1"):
        return 1
    if not digits:
        raise Unreadable(f"joblib array dtype {typestr!r} without a size")
    return int(digits) * (4 if kind == "U" else 1)


def array_spec(state: object) -> ArraySpec:
    """Read the wrapper's state (a dict of constants and a numpy dtype)."""
    try:
        return _array_spec(state)
    except TooLarge as exc:
        raise Unreadable(f"joblib array wrapper: {exc}") from None


def _array_spec(state: object) -> ArraySpec:
    shape = plain(dict_get(state, "shape"))
    if not (isinstance(shape, tuple) and all(isinstance(n, int) and n >= 0 for n in shape)):
        raise Unreadable("joblib array wrapper with an unreadable shape")
    dtype = dict_get(state, "dtype")
    has_object = _has_object(dtype)
    align = dict_get(state, "numpy_array_alignment_bytes")
    aligned = isinstance(align, Const) and align.value is not None
    count = math.prod(shape) if shape else 1
    return ArraySpec(0 if has_object else _itemsize(dtype), count, has_object, aligned)


def numeric_end(spec: ArraySpec, data: bytes, offset: int) -> int:
    """Offset just past a numeric array written at ``offset`` (padding included)."""
    if spec.aligned:
        if offset >= len(data):
            raise Unreadable("joblib array padding byte missing")
        offset += 1 + data[offset]
    end = offset + spec.count * spec.itemsize
    if end > len(data):
        raise Unreadable(f"joblib array of {spec.count * spec.itemsize} bytes is truncated")
    return end
