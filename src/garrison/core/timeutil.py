"""Timestamps: everything inside Garrison is milliseconds since the epoch, UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from garrison.core.errors import RecordError

#: 2000-01-01 .. 2100-01-01: anything outside is a parse error or clock garbage.
_MIN_MS = 946_684_800_000
_MAX_MS = 4_102_444_800_000


def now_ms() -> int:
    return int(time.time() * 1000)


def parse_iso_ms(text: str) -> int:
    """Milliseconds from an ISO-8601 timestamp; naive times are taken as UTC.

    >>> parse_iso_ms("2019-08-14T14:06:44.495674Z")
    1565791604495
    >>> parse_iso_ms("2020-10-19 12:28:44.333")
    1603110524333
    """
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Python < 3.11 style: trim sub-microsecond digits (EVTX gives 7).
    if "." in text:
        head, _, tail = text.partition(".")
        digits = ""
        rest = ""
        for i, ch in enumerate(tail):
            if not ch.isdigit():
                rest = tail[i:]
                break
            digits += ch
        text = f"{head}.{digits[:6]}{rest}" if digits else head + rest
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as exc:
        raise RecordError(f"bad timestamp {text[:40]!r}") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def epoch_to_ms(value: float | int | str) -> int:
    """Milliseconds from epoch seconds, milliseconds or microseconds (guessed by magnitude)."""
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise RecordError(f"bad epoch timestamp {str(value)[:40]!r}") from exc
    if number != number or number in (float("inf"), float("-inf")):
        raise RecordError("timestamp is not a number")
    if abs(number) < 1e11:
        return int(number * 1000)
    if abs(number) < 1e14:
        return int(number)
    return int(number / 1000)


def in_range(ms: int) -> bool:
    return _MIN_MS <= ms <= _MAX_MS


def iso(ms: int) -> str:
    """ISO-8601 text of a time; a value no calendar can show (hostile or garbage timestamps)
    is shown as the raw number instead of failing.

    >>> iso(0)
    '1970-01-01T00:00:00.000+00:00'
    >>> iso(-100_000_000_000_000)
    '@-100000000000000ms'
    """
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
    except (ValueError, OverflowError, OSError):
        return f"@{ms}ms"


def day_of(ms: int) -> str:
    if not in_range(ms):
        return "unknown"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")
