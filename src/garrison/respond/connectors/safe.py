"""Checks every value must pass before it reaches a rule, an argv, a header or a peer.

Action parameters are rendered from findings, so an address, a host name or a user name may
be attacker text: ``10.0.0.1; flush ruleset``, ``--help``, ``web01\\r\\nBcc: x``. Each check
here accepts only a narrow, documented shape and returns the canonical form to use (an IP as
``ipaddress`` prints it, never the input), or raises ``ValueError`` saying what was expected
(quoted with ``visible``, cut short). ``perform`` checks parameters once per action; each
connector checks again what it interpolates, so a connector used directly is safe too.

Why narrow patterns rather than escaping: an escaping rule differs per sink (nft, a shell a
script may still use, an SMTP header); a value that cannot contain a separator, a quote, a
leading dash or a control character is safe in all of them.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

from garrison.core.text import visible

_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")
#: Windows and directory accounts: ``alice``, ``CORP\\alice``, ``alice@corp.example``,
#: ``WS01$``. No leading dash (an option to the called tool), no space, no quote.
_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@\\-]{0,254}\$?$")
_LOCAL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_+-]*(?:\.[A-Za-z0-9_+-]+)*$")
_TOKEN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$")
_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:/=+-]{0,199}$")
_DURATION = re.compile(r"^([1-9][0-9]{0,6})([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: Longest free text (a reason, a message) passed on; the rest is cut.
TEXT_MAX = 2000


def quote(value: object, width: int = 60) -> str:
    """A value shown in an error: escaped, cut, quoted."""
    text = visible(value)
    return repr(text if len(text) <= width else text[: width - 3] + "...")


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}")
    return value


def ip(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """One IP address (no network, no IPv6 zone such as ``%eth0``, which ``ipaddress``
    accepts with any text after the ``%``); an IPv4-mapped IPv6 address becomes IPv4."""
    text = _string(value, "an IP address")
    if "%" in text:
        raise ValueError(f"an IP address must not carry a zone (%...): {quote(text)}")
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"not an IP address: {quote(text)}") from None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def hostname(value: Any) -> str:
    """A DNS or NetBIOS host name (letters, digits, ``-``, ``_``, dots) or an IP address."""
    text = _string(value, "a host name")
    if len(text) <= 253 and _HOST.fullmatch(text):
        return text
    try:
        return str(ip(text))
    except ValueError:
        raise ValueError(f"not a host name or IP address: {quote(text)}") from None


def _matching(value: Any, pattern: re.Pattern[str], what: str, problem: str) -> str:
    text = _string(value, what)
    if not pattern.fullmatch(text):
        raise ValueError(f"{problem}: {quote(text)}")
    return text


def username(value: Any) -> str:
    """An account name: letters, digits and ``_ . @ - \\``, optionally ending in ``$``."""
    return _matching(value, _USER, "a user name", "not a safe user name")


def email(value: Any) -> str:
    """An address ``local@domain`` in the plain form every SMTP server takes (no display
    name, no quoted local part, no comment): nothing that could end a header or a command."""
    text = _string(value, "an e-mail address")
    local, at, domain = text.rpartition("@")
    ok = (
        at
        and len(text) <= 254
        and len(local) <= 64
        and _LOCAL.fullmatch(local)
        and _HOST.fullmatch(domain)
        and "_" not in domain
    )
    if not ok:
        raise ValueError(f"not an e-mail address: {quote(text)}")
    return text


def emails(value: Any) -> tuple[str, ...]:
    """One address or a non-empty list of them."""
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise ValueError("'to' must be an address or a non-empty list of addresses")
    return tuple(email(v) for v in items)


def token(value: Any, what: str = "a name") -> str:
    """A short identifier (a queue, a priority, a connector, a playbook or step id)."""
    return _matching(value, _TOKEN, what, f"{what} must be letters, digits, '_', '.', ':' or '-'")


def key(value: Any) -> str:
    """An idempotency key as it may appear in an argv or a header."""
    return _matching(value, _KEY, "an idempotency key", "unsafe idempotency key")


def duration(value: Any) -> int:
    """Seconds of ``90s``, ``30m``, ``4h`` or ``2d`` (the playbooks' duration format)."""
    text = _string(value, "a duration")
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"a duration is written like 30m, 4h or 1d, not {quote(text)}")
    return int(match.group(1)) * _UNIT[match.group(2)]


def text(value: Any, what: str = "text") -> str:
    """Free text (a reason, a message): any string, made visible and cut to ``TEXT_MAX``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    return visible(_string(value, what), TEXT_MAX)


def header(value: Any) -> str:
    """Text for one mail header line: every control character (CR and LF above all) is
    shown as its escape, so attacker text can never end the header and start another."""
    return visible(value, 200)


def tls_file(value: str) -> str:
    """A CA file option: it must be a readable PEM file (checked at load, not mid-send)."""
    path = Path(value)
    text = path.read_text(encoding="ascii", errors="replace")  # OSError names the file
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ValueError(f"{value} holds no PEM certificate")
    return str(path)


class Secret:
    """A secret read from the environment variable a connector table names. Its repr and
    str name the variable, never the value, so a logged connector or a traceback's locals
    cannot leak it; ``reveal`` is called only where the value is used (an HMAC, a login)."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str) -> None:
        self._value = value
        self.source = source

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret(${self.source})"

    __str__ = __repr__
