"""Reading values out of nested event objects by dotted path, tolerant of any shape.

Every field of an event is attacker-controlled, so a lookup must never raise: a missing
key, a scalar where a dict was expected or an index past a list's end all give ``None``.

>>> dig({"a": {"b": [{"c": 1}]}}, "a.b.0.c")
1
>>> dig({"a": "text"}, "a.b") is None
True
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


def dig_parts(obj: Any, parts: tuple[str, ...] | list[str]) -> Any:
    """Value at the path given as its parts, or None."""
    cur = obj
    for part in parts:
        if cur.__class__ is dict or isinstance(cur, dict):  # the exact type first: cheaper
            cur = cur.get(part)
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return None
        if cur is None:
            return None
    return cur


@lru_cache(maxsize=8192)
def _parts(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def dig(obj: Any, path: str) -> Any:
    """Value at a dotted path inside nested dicts/lists, or None.

    Detectors call this for a few fixed paths on every event: the split is cached, and a
    top-level key absent from a dict (the common case) costs one lookup."""
    if obj.__class__ is dict and "." not in path:
        return obj.get(path)
    return dig_parts(obj, _parts(path))
