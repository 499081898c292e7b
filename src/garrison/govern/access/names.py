"""What a user name, a role list and a token lifetime may be, checked at the service edge.

User names are the operating-system account names the CLI maps to (``current_actor``), so
they follow the portable POSIX form (lower case, digits, ``_ . -``, at most 32 characters):
no spaces, no look-alike Unicode, nothing a terminal or an audit reader could misread, and
no two names that differ only in case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from garrison.core.errors import UsageError
from garrison.govern.access.policy import ROLES

_NAME = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")
_TTL = re.compile(r"([1-9][0-9]{0,5})([mhdw])")
_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}
#: The longest a token may live: a forgotten token should not outlive a year.
MAX_TTL_MS = 366 * 86_400_000
DEFAULT_TTL = "30d"


def check_name(name: str) -> str:
    """``name`` if it is a valid user name, else ``UsageError``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UsageError(
            f"bad user name {name[:40]!r}: 1-32 of a-z 0-9 _ . - (starting with a letter or _)"
            if isinstance(name, str)
            else "a user name must be text"
        )
    return name


def check_roles(roles: Iterable[str], allow_empty: bool = False) -> frozenset[str]:
    """The roles as a set, each a known role; ``UsageError`` otherwise."""
    given = list(roles)
    unknown = [r for r in given if r not in ROLES]
    if unknown:
        shown = ", ".join(repr(str(r)[:40]) for r in unknown)
        raise UsageError(f"unknown role {shown}; roles are {', '.join(ROLES)}")
    if not given and not allow_empty:
        raise UsageError(f"give at least one --role ({', '.join(ROLES)})")
    return frozenset(given)


def parse_ttl(text: str) -> int:
    """Milliseconds of a lifetime like ``90m``, ``12h``, ``30d``, ``2w`` (at most 366 days)."""
    match = _TTL.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise UsageError(f"bad --ttl {str(text)[:40]!r}: a number and m, h, d or w (e.g. 30d)")
    ms = int(match.group(1)) * _UNIT_MS[match.group(2)]
    if ms > MAX_TTL_MS:
        raise UsageError(f"--ttl {text} is longer than the 366 days a token may live")
    return ms
