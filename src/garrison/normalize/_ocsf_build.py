"""Small helpers the line-format normalizers share to build OCSF objects.

Every object they build has ``class_uid``, ``class_name``, ``category_uid``,
``category_name``, ``activity_id``, ``activity_name``, ``type_uid`` (class * 100 +
activity), ``time`` (ms), ``severity_id``/``severity`` and ``metadata.product``; ``None``
values and empty objects are left out (``compact``), so an absent field is absent, never
``null``.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from garrison.core.errors import RecordError
from garrison.core.events import CLASS_NAMES
from garrison.core.timeutil import epoch_to_ms, parse_iso_ms

CATEGORY_NAMES = {
    0: "Uncategorized",
    1: "System Activity",
    3: "Identity & Access Management",
    4: "Network Activity",
    6: "Application Activity",
}

SEVERITY_NAMES = {
    0: "Unknown",
    1: "Informational",
    2: "Low",
    3: "Medium",
    4: "High",
    5: "Critical",
    6: "Fatal",
}

STATUS = {True: (1, "Success"), False: (2, "Failure"), None: (0, "Unknown")}

_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)

#: OCSF schema version these objects follow.
OCSF_VERSION = "1.3.0"


def base_event(
    class_uid: int,
    activity_id: int,
    activity_name: str,
    time: int,
    *,
    product: str,
    vendor: str | None = None,
    log_name: str | None = None,
    severity_id: int = 1,
) -> dict[str, Any]:
    """The attributes every OCSF event carries."""
    category = class_uid // 1000
    metadata: dict[str, Any] = {
        "version": OCSF_VERSION,
        "product": {"name": product, "vendor_name": vendor or product},
    }
    if log_name:
        metadata["log_name"] = log_name
    return {
        "class_uid": class_uid,
        "class_name": CLASS_NAMES.get(class_uid, "Base Event"),
        "category_uid": category,
        "category_name": CATEGORY_NAMES.get(category, "Uncategorized"),
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": class_uid * 100 + activity_id,
        "time": time,
        "severity_id": severity_id,
        "severity": SEVERITY_NAMES.get(severity_id, "Other"),
        "metadata": metadata,
    }


def set_status(ocsf: dict[str, Any], ok: bool | None) -> None:
    status_id, status = STATUS[ok]
    ocsf["status_id"] = status_id
    ocsf["status"] = status


def endpoint(ip: Any = None, port: Any = None, hostname: Any = None) -> dict[str, Any]:
    """An OCSF endpoint; a value that is not an IP address goes to ``hostname`` instead of
    ``ip`` (so ``ip`` always holds an address), a port only when it is an integer 0..65535."""
    out: dict[str, Any] = {}
    if ip not in (None, ""):
        text = str(ip)
        if is_ip(text):
            out["ip"] = text
        elif hostname in (None, ""):
            hostname = text
    port_no = as_port(port)
    if port_no is not None:
        out["port"] = port_no
    if hostname not in (None, ""):
        out["hostname"] = str(hostname)
    return out


@lru_cache(maxsize=65536)
def is_ip(text: str) -> bool:
    """True for an IPv4/IPv6 address (cached: logs repeat the same addresses)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def as_port(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        port = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return port if 0 <= port <= 65535 else None


def as_int(value: Any) -> int | None:
    """An int from an int, an integral float or a decimal string; None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value and abs(value) < 2**63 else None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 20:
        return int(value)
    return None


def seconds_to_ms(value: Any) -> int | None:
    """A Zeek interval (float seconds) as whole milliseconds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value != value or abs(value) > 1e12:
        return None
    return round(value * 1000)


def time_ms(value: Any) -> int:
    """Milliseconds from epoch seconds/ms/µs (number or numeric string) or an ISO string.

    No range check: relative capture times (Stratosphere's 19.98 s) are kept as given.
    Raises ``RecordError`` when the value is not a time at all.
    """
    if isinstance(value, bool) or value is None:
        raise RecordError(f"bad timestamp {value!r}")
    if isinstance(value, int | float):
        ms = epoch_to_ms(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            float(text)
        except ValueError:
            ms = parse_iso_ms(text)
        else:
            ms = epoch_to_ms(text)
    else:
        raise RecordError(f"bad timestamp of type {type(value).__name__}")
    if not _INT64_MIN <= ms <= _INT64_MAX:
        raise RecordError(f"timestamp {str(value)[:40]!r} is beyond 64-bit milliseconds")
    return ms


_NOTHING: dict[str, Any] = {}


def present(**values: Any) -> dict[str, Any] | None:
    """The given values that are present (not None, not an empty object); None if none is.

    Builders that assemble each object from present values only need no ``compact`` pass:
    an absent field is absent, never ``null``.
    """
    out = {k: v for k, v in values.items() if v is not None and v != _NOTHING}
    return out or None


def put_present(obj: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` only to something (never None or an empty object)."""
    if value is not None and value != _NOTHING:
        obj[key] = value


def compact(value: Any) -> Any:
    """``value`` without ``None`` entries and empty dicts (recursively, dicts only)."""
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if item is None:
            continue
        if isinstance(item, dict):
            item = compact(item)
            if not item:
                continue
        out[key] = item
    return out
