"""Finding a person's values in event text, one matcher for pseudonymizing and for
data-subject search.

A value matches as a whole word, case-insensitively: ``alice`` matches ``Failed password
for Alice from`` and ``CORP\\alice``, not ``malice``, ``alice2``, ``alice.smith``,
``alice@corp.com`` nor ``adm-alice`` (a word joined by ``.``, ``@`` or ``-`` is another
identifier, as for the pseudonymizer's known words). Every value is escaped before it goes into
the pattern (values are attacker-controlled text), and values are tried longest first so
``alice.smith`` wins over ``alice``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

#: A match must stand alone: not inside a word, and not joined to one by ``.``, ``@`` or
#: ``-`` (``alice`` is not in ``alice.smith``, ``alice@corp.com`` nor ``adm-alice``, which
#: are other identifiers), but ``for alice.`` and ``CORP\\alice`` hold it.
_BEFORE = r"(?<!\w)(?<!\w[.@-])"
_AFTER = r"(?!\w)(?![.@-]\w)"
#: Placeholders that name nobody: never pseudonymized, never searched for.
PLACEHOLDERS = frozenset(
    {"", "-", "?", "n/a", "null", "none", "unknown", "system", "anonymous logon", "anonymous"}
)


def personal(value: str) -> bool:
    """Whether ``value`` can name a person (not empty, not a placeholder such as ``-``)."""
    return value.strip().casefold() not in PLACEHOLDERS


class Matcher:
    """Whole-word, case-insensitive search for any of ``terms``."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms = sorted({t for t in terms if personal(t)}, key=lambda t: (-len(t), t))
        self._pattern = (
            re.compile(
                _BEFORE + "(?:" + "|".join(re.escape(t) for t in self.terms) + ")" + _AFTER,
                re.IGNORECASE,
            )
            if self.terms
            else None
        )

    def __bool__(self) -> bool:
        return self._pattern is not None

    def search(self, text: str) -> bool:
        return self._pattern is not None and self._pattern.search(text) is not None

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where each match starts and ends (a search over a window of a larger text keeps
        only the matches whose neighbours the window holds)."""
        if self._pattern is None:
            return []
        return [m.span() for m in self._pattern.finditer(text)]

    def sub(self, text: str, replace: Callable[[str], str]) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: replace(m.group(0)), text)

    def in_leaves(self, obj: Any, depth: int = 0) -> bool:
        """Whether any text (or number) inside nested dicts and lists matches; keys are
        field names, not values, and are not searched."""
        if depth > 64:
            return False
        if isinstance(obj, dict):
            return any(self.in_leaves(v, depth + 1) for v in obj.values())
        if isinstance(obj, list | tuple):
            return any(self.in_leaves(v, depth + 1) for v in obj)
        if obj is None or isinstance(obj, bool):
            return False
        return self.search(obj if isinstance(obj, str) else str(obj))
