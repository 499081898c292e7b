"""``[privacy]`` in garrison.toml: which fields are pseudonymized, and how long each source
is kept.

    [privacy]
    # source format (as ``garrison hunt`` names it: jsonl, syslog, evtx, zeek...) or "*"
    # for every source -> OCSF field paths whose values are replaced by a keyed token
    fields = { "*" = ["actor.user.name", "user.name"], jsonl = ["email.from"] }
    keep = ["root", "administrator", "svc-backup"]   # accounts that name no person
    [privacy.retention]
    zeek = "30d"     # days ("30d", a number of days) or weeks ("12w")
    syslog = 90

Read by the one options loader (``core.options.load_options``); a hunt checks it before any
work. Retention is counted in whole days because the lake is partitioned by day: a
partition is removed once every event it can hold is older than the limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from garrison.core.options import load_options, option

#: An OCSF path: dotted names (``actor.user.name``); list indexes are not addressed.
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,15}$")
_RETENTION = re.compile(r"^\s*([0-9]{1,6})\s*([dw]?)\s*$")
#: No retention is longer than a hundred years.
MAX_DAYS = 36_500
#: Built-in accounts kept by default (``keep``).
DEFAULT_KEEP = ("root", "administrator", "admin", "guest", "nobody", "daemon")
#: The key of ``fields`` that applies to every source.
ANY_SOURCE = "*"


def _field_paths(value: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    """Each source's paths, checked: a typo must not leave a personal field in clear."""
    out: dict[str, tuple[str, ...]] = {}
    for source, paths in value.items():
        if not source.strip():
            raise ValueError("a source name must not be empty")
        for path in paths:
            if not _PATH.match(path):
                raise ValueError(
                    f"{source!r}: {path[:40]!r} is not an OCSF field path (e.g. actor.user.name)"
                )
        out[source] = tuple(dict.fromkeys(paths))
    return out


def retention_days(value: Any) -> int:
    """Days from a number of days, ``"30d"`` or ``"12w"``; ``ValueError`` otherwise.

    >>> retention_days(7), retention_days("30d"), retention_days("2w")
    (7, 30, 14)
    """
    if isinstance(value, bool):
        raise ValueError(f"expected days, got {value!r}")
    if isinstance(value, int):
        days = value
    elif isinstance(value, str) and (m := _RETENTION.match(value.lower())):
        days = int(m.group(1)) * (7 if m.group(2) == "w" else 1)
    else:
        raise ValueError(f"{str(value)[:40]!r} is not a retention (use days: 30, '30d' or '12w')")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"a retention must be between 1 and {MAX_DAYS} days, not {days}")
    return days


def _retentions(value: dict[str, int | str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for source, limit in value.items():
        try:
            out[source] = retention_days(limit)
        except ValueError as exc:
            raise ValueError(f"{source!r}: {exc}") from None
    return out


def _folded(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip().casefold() for v in values if v.strip()))


@dataclass(slots=True)
class PrivacyConfig:
    #: Source format (or ``"*"``) -> OCSF field paths pseudonymized at ingestion.
    fields: dict[str, tuple[str, ...]] = option(
        default_factory=dict, accepts=dict[str, list[str]], convert=_field_paths
    )
    #: Account names that name no person (built-in and service accounts), never
    #: pseudonymized, compared case-insensitively: rules and detectors keyed on them
    #: (a root login, a failed Administrator logon) keep working.
    keep: tuple[str, ...] = option(DEFAULT_KEEP, accepts=list[str], convert=_folded)
    #: Windows machine accounts (``HOST$``) are kept: they name a computer, not a person,
    #: and UEBA tells machine from human logons by the ``$``.
    keep_machine_accounts: bool = True
    #: Source format -> days its lake partitions are kept (``[privacy.retention]``).
    retention: dict[str, int] = option(
        default_factory=dict, accepts=dict[str, int | str], convert=_retentions
    )

    def paths_for(self, source: str) -> tuple[str, ...]:
        """The paths pseudonymized in events of ``source`` (its own and those of ``*``)."""
        both = (*self.fields.get(ANY_SOURCE, ()), *self.fields.get(source, ()))
        return tuple(dict.fromkeys(both))

    def keeps(self, value: str) -> bool:
        """Whether ``value`` is an account name that is never pseudonymized."""
        if self.keep_machine_accounts and value.endswith("$"):
            return True
        return value.strip().casefold() in self.keep

    @property
    def pseudonymizes(self) -> bool:
        return any(self.fields.values())


def load_privacy_config(raw: dict[str, Any], file: Path | None = None) -> PrivacyConfig:
    """``[privacy]`` of a parsed garrison.toml, checked (an ``OptionsError`` names the key)."""
    return load_options(PrivacyConfig, raw.get("privacy"), where="privacy", file=file)


__all__ = ["ANY_SOURCE", "PrivacyConfig", "load_privacy_config", "retention_days"]
