"""The asset inventory: assets, identities, vulnerabilities and recent configuration changes.

Lookups follow how entities reach triage: host names case-insensitively, by short name or
FQDN (``WS01`` matches ``ws01.corp.example``), IP addresses in canonical form, and users by
their bare lower-case name (``CORP\\Alice`` and ``alice@corp`` are ``alice``).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: Criticality names in rising order, and their rank (0 = not in the inventory).
CRITICALITY_RANK = {"unknown": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
CRITICALITIES = ("low", "medium", "high", "critical")
EXPOSURES = ("internal", "dmz", "internet")


@dataclass(slots=True, frozen=True)
class Vulnerability:
    cve: str
    cvss: float

    def to_json(self) -> dict[str, Any]:
        return {"cve": self.cve, "cvss": self.cvss}


@dataclass(slots=True, frozen=True)
class ConfigChange:
    host: str
    time: int
    description: str
    by: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"time": self.time, "description": self.description}
        if self.by:
            out["by"] = self.by
        return out


@dataclass(slots=True)
class Asset:
    host: str
    ips: tuple[str, ...] = ()
    owner: str = ""
    criticality: str = "medium"
    exposure: str = "internal"
    tags: tuple[str, ...] = ()
    vulnerabilities: tuple[Vulnerability, ...] = ()
    changes: list[ConfigChange] = field(default_factory=list)

    @property
    def rank(self) -> int:
        return CRITICALITY_RANK.get(self.criticality, 0)

    @property
    def max_cvss(self) -> float:
        return max((v.cvss for v in self.vulnerabilities), default=0.0)

    def to_json(self, changes: list[ConfigChange] | None = None) -> dict[str, Any]:
        """The asset as an OCSF-style resource: name, criticality, labels, and context."""
        out: dict[str, Any] = {
            "type": "host",
            "name": self.host,
            "criticality": self.criticality,
            "exposure": self.exposure,
            "labels": list(self.tags),
        }
        if self.ips:
            out["ip"] = list(self.ips)
        if self.owner:
            out["owner"] = self.owner
        if self.vulnerabilities:
            out["vulnerabilities"] = [v.to_json() for v in self.vulnerabilities]
        if changes:
            out["recent_changes"] = [c.to_json() for c in changes]
        return out


@dataclass(slots=True)
class Identity:
    user: str
    department: str = ""
    privileged: bool = False
    title: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "user", "name": self.user, "privileged": self.privileged}
        if self.department:
            out["department"] = self.department
        if self.title:
            out["title"] = self.title
        return out


def host_keys(name: str) -> tuple[str, str]:
    """(full lower-case name, short name) of a host; IPs stay whole."""
    full = name.strip().lower().rstrip(".")
    try:
        ipaddress.ip_address(full)
    except ValueError:
        return full, full.split(".")[0]
    return full, full


def user_key(name: str) -> str:
    return name.strip().split("\\")[-1].split("@")[0].lower()


def ip_key(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


class AssetInventory:
    """Assets and identities, indexed for the lookups triage makes on every finding."""

    def __init__(self, assets: Sequence[Asset] = (), identities: Sequence[Identity] = ()) -> None:
        self.assets = list(assets)
        self.identities = list(identities)
        self._by_full: dict[str, list[Asset]] = defaultdict(list)
        self._by_short: dict[str, list[Asset]] = defaultdict(list)
        self._by_ip: dict[str, list[Asset]] = defaultdict(list)
        self._users: dict[str, Identity] = {}
        for asset in self.assets:
            full, short = host_keys(asset.host)
            self._by_full[full].append(asset)
            self._by_short[short].append(asset)
            for ip in asset.ips:
                self._by_ip[ip].append(asset)
        for ident in self.identities:
            self._users[user_key(ident.user)] = ident

    def __len__(self) -> int:
        return len(self.assets) + len(self.identities)

    def host(self, name: str) -> list[Asset]:
        """Assets named ``name``: exact FQDN first, else every asset with that short name."""
        full, short = host_keys(name)
        if full in self._by_full:
            return self._by_full[full]
        if full in self._by_ip:
            return self._by_ip[full]
        return self._by_short.get(short, [])

    def ip(self, address: str) -> list[Asset]:
        key = ip_key(address)
        return self._by_ip.get(key, []) if key else []

    def user(self, name: str) -> Identity | None:
        return self._users.get(user_key(name))
