"""The Windows mapping tables (``_windows_map.yaml``) loaded once into a small dataclass.

Why data: which (log family, EventID) goes to which OCSF class, the canonical channel names
and the enumerations are facts about Windows that change more often than the code does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

SECURITY = "security"
SYSMON = "sysmon"
SYSMON_CHANNEL = "Microsoft-Windows-Sysmon/Operational"
SYSMON_PROVIDER = "Microsoft-Windows-Sysmon"
SECURITY_PROVIDER = "Microsoft-Windows-Security-Auditing"


@dataclass(slots=True, frozen=True)
class WindowsMap:
    #: (family, EventID) -> builder name ("authentication", "process", ...)
    classes: dict[tuple[str, int], str] = field(default_factory=dict)
    #: lower-cased channel -> canonical spelling
    channels: dict[str, str] = field(default_factory=dict)
    logon_types: dict[int, str] = field(default_factory=dict)
    levels: dict[int, int] = field(default_factory=dict)
    sysmon_event_types: dict[int, str] = field(default_factory=dict)


def _load(raw: dict[str, Any]) -> WindowsMap:
    classes = {
        (family, int(eid)): builder
        for family, table in raw["classes"].items()
        for builder, ids in table.items()
        for eid in ids
    }
    return WindowsMap(
        classes=classes,
        channels={str(name).lower(): str(name) for name in raw["channels"]},
        logon_types={int(k): str(v) for k, v in raw["logon_types"].items()},
        levels={int(k): int(v) for k, v in raw["levels"].items()},
        sysmon_event_types={int(k): str(v) for k, v in raw["sysmon_event_types"].items()},
    )


@lru_cache(maxsize=1)
def windows_map() -> WindowsMap:
    text = resources.files("garrison.normalize").joinpath("_windows_map.yaml").read_text("utf-8")
    return _load(yaml.safe_load(text))


def family_of(channel: Any, provider: Any) -> str:
    """``security``, ``sysmon`` or ``""``: which builder table an event is looked up in."""
    if channel == SYSMON_CHANNEL or provider == SYSMON_PROVIDER:
        return SYSMON
    if provider == SECURITY_PROVIDER or (channel == "Security" and provider is None):
        return SECURITY
    return ""
