"""What the scanner's stack holds instead of objects: just enough to follow names.

Nothing here is ever built for real. A string is kept as a ``Const`` so that a
``STACK_GLOBAL`` can name the global it reads from the stack or the memo; a ``Global`` is
a reference the loader would import; ``Made`` is what calling one would return (and the
state a ``BUILD`` would give it); tuples and dicts are kept so that joblib's array wrapper
can be sized. Everything else is ``UNKNOWN``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Const:
    value: object


@dataclass(frozen=True, slots=True)
class Global:
    module: str
    name: str
    allowed: bool


@dataclass(slots=True)
class Made:
    """The result of calling ``maker`` (an allowlisted ``Global``) on ``args``."""

    maker: Global
    args: object
    state: object = None


@dataclass(frozen=True, slots=True)
class Tup:
    items: tuple[object, ...]


@dataclass(slots=True)
class Dct:
    """Key/value pairs in the order ``SETITEM(S)`` gave them (keys need not hash)."""

    pairs: list[tuple[object, object]] = field(default_factory=list)


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


#: Most stand-ins ``plain`` converts: the memo lets a few bytes describe a tuple tree
#: exponentially large (each level holding the one below twice), so the walk is bounded.
PLAIN_BUDGET = 4096


class TooLarge(ValueError):
    """A value too large to convert (see ``PLAIN_BUDGET``)."""


def plain(value: object, budget: list[int] | None = None) -> object:
    """A Python value for a ``Const``/``Tup`` tree (``None`` for anything else): used to
    read joblib's wrapper state (shape tuples, dtype strings). Raises ``TooLarge``."""
    budget = [PLAIN_BUDGET] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0:
        raise TooLarge("value too large to read")
    if isinstance(value, Const):
        return value.value
    if isinstance(value, Tup):
        return tuple(plain(v, budget) for v in value.items)
    return None


def dict_get(value: object, key: str) -> object:
    """``value[key]`` for a ``Dct`` keyed by string constants, else ``UNKNOWN``."""
    if isinstance(value, Dct):
        for k, v in reversed(value.pairs):
            if isinstance(k, Const) and k.value == key:
                return v
    return UNKNOWN
