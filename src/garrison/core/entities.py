"""Entities (user, host, ip, domain, process hash) and how to read them off an OCSF event.

Triage and correlation key everything on entities, so there is one place that knows where
each normalizer puts them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Literal

EntityKind = Literal["user", "host", "ip", "domain", "hash", "process"]

#: Values that name no one: never correlate on them.
_NON_ENTITIES = frozenset(
    {
        "",
        "-",
        "?",
        "n/a",
        "null",
        "none",
        "unknown",
        "localhost",
        "system",
        "local system",
        "network service",
        "local service",
        "anonymous logon",
        "127.0.0.1",
        "::1",
        "0.0.0.0",  # noqa: S104  - a value to ignore, not an address to bind
        "::",
    }
)


@dataclass(slots=True, frozen=True, order=True)
class Entity:
    kind: EntityKind
    value: str

    def key(self) -> str:
        return f"{self.kind}:{self.value}"

    def to_json(self) -> dict[str, str]:
        return {"type": self.kind, "value": self.value}


_PATHS: tuple[tuple[EntityKind, str], ...] = (
    ("host", "device.hostname"),
    ("user", "actor.user.name"),
    ("user", "user.name"),
    ("ip", "src_endpoint.ip"),
    ("ip", "dst_endpoint.ip"),
    ("ip", "device.ip"),
    ("host", "dst_endpoint.hostname"),
    ("domain", "query.hostname"),
    ("domain", "http_request.url.hostname"),
    ("hash", "process.file.hashes.0.value"),
)


def normalize_entity(kind: EntityKind, value: Any) -> Entity | None:
    """Canonical form of an entity value, or None when it names nobody.

    >>> normalize_entity("user", "CORP\\\\Alice")
    Entity(kind='user', value='alice')
    >>> normalize_entity("ip", "not-an-ip") is None
    True
    """
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() in _NON_ENTITIES:
        return None
    if kind == "user":
        text = text.split("\\")[-1].split("@")[0].lower()
    elif kind in ("host", "domain"):
        text = text.lower().rstrip(".")
        if kind == "host":
            text = text.split(".")[0] if not _is_ip(text) else text
    elif kind == "ip":
        if not _is_ip(text):
            return None
        text = str(ipaddress.ip_address(text))
    if not text or text.lower() in _NON_ENTITIES:
        return None
    return Entity(kind, text)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _index(obj: Any, part: str) -> Any:
    if isinstance(obj, list):
        return obj[int(part)] if part.isdigit() and int(part) < len(obj) else None
    if isinstance(obj, dict):
        return obj.get(part)
    return None


def entities_of(ocsf: dict[str, Any]) -> list[Entity]:
    """Every entity an OCSF event names, deduplicated, in a stable order."""
    found: list[Entity] = []
    for kind, path in _PATHS:
        cur: Any = ocsf
        for part in path.split("."):
            cur = _index(cur, part)
            if cur is None:
                break
        entity = normalize_entity(kind, cur)
        if entity is not None and entity not in found:
            found.append(entity)
    return found
