"""Triage and correlation settings: small dataclasses read from ``garrison.toml``.

Example::

    [triage]
    dedup_window = "1h"       # same analytic + same entities within this gap -> one finding
    evidence_cap = 100        # evidences kept on a deduplicated finding

    [triage.risk]
    half_life = "24h"         # entity risk halves every 24 h
    threshold = 60            # an entity whose decayed risk reaches this opens an incident

    [[triage.suppress]]       # keep the first finding per window, count the rest
    analytic = "5f1a*"        # glob over the analytic uid (Sigma rule id, detector id)
    window = "1h"
    by = ["host"]

    [[triage.exceptions]]     # analytic + entity conditions -> suppressed finding
    analytic = "rule-uid"
    host = "backup01"
    reason = "nightly backup job"

    [[triage.allowlist]]      # entity allowed for every analytic
    kind = "domain"
    value = "*.windowsupdate.com"

    [correlate]
    window = "24h"            # serious findings sharing an entity join within this gap
    short_window = "4h"       # any findings sharing an entity join within this gap
    serious_severity = 4      # OCSF severity id from which a finding is "serious" (High)
    lateral_bridge = "15s"    # lateral movement joins the target host's findings this soon
    max_span = "7d"
    hub_share = 0.5
    hub_min = 200
    hub_fanout = 40
    spread_max_hosts = 3

Durations are an int of milliseconds or a string such as ``"90s"``, ``"15m"``, ``"24h"``,
``"7d"``. Every table is read by the one options loader (``garrison.core.options``): an
unknown key, a wrong type or a value out of range is an ``OptionsError`` (exit 2) that names
the table, the key and the file, never a traceback.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args

from garrison.core.entities import EntityKind
from garrison.core.errors import InputError
from garrison.core.options import load_options, option

_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
#: A hundred years: no window, retention or expiry is longer.
MAX_DURATION_MS = 100 * 365 * DAY_MS

#: What TOML may hold for a duration: milliseconds, or a string with a unit.
Duration = int | float | str


def duration_ms(value: Any) -> int:
    """Milliseconds from an int (ms) or a string with a unit; ``ValueError`` otherwise.

    >>> duration_ms("90s"), duration_ms("1.5h"), duration_ms(250)
    (90000, 5400000, 250)
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got {value!r}")
    if isinstance(value, int | float):
        amount = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value.lower())):
        amount = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ValueError(f"{value!r} is not a duration (use ms or e.g. '15m', '24h', '7d')")
    if not math.isfinite(amount) or abs(amount) > MAX_DURATION_MS:
        raise ValueError(f"{str(value)[:40]!r} is longer than any duration Garrison uses")
    ms = int(amount)
    if ms < 0:
        raise ValueError("duration must not be negative")
    return ms


def parse_duration(value: Any, where: str) -> int:
    """``duration_ms`` for callers outside a table: a mistake is an ``InputError``."""
    try:
        return duration_ms(value)
    except ValueError as exc:
        raise InputError(f"config {where}: {exc}") from exc


def _positive_duration(value: Any) -> int:
    return max(1, duration_ms(value))


def duration(default: int, key: str, convert: Any = duration_ms) -> Any:
    """A duration field: stored in ms, written in TOML under ``key`` as ms or ``"24h"``."""
    return option(default, key=key, accepts=Duration, convert=convert)


@dataclass(slots=True)
class RiskConfig:
    """Risk-based alerting: how findings turn into entity risk, and when it opens an incident."""

    half_life_ms: int = duration(DAY_MS, "half_life", _positive_duration)
    #: Decayed entity risk at which an incident opens: the floor of the High band. A
    #: confident high-severity finding reaches it alone, two medium ones close together
    #: do too, low-severity ones alone never do (unless the asset or intel lifts them).
    threshold: float = option(60.0, min=1, max=1000)
    #: Each further finding of the same analytic in one incident counts this much less.
    repeat_factor: float = option(0.25, min=0, max=1)
    #: In an incident's score the n-th strongest analytic counts ``stack_factor ** n``.
    stack_factor: float = option(0.5, min=0, max=1)
    #: An incident scores at most this much above its strongest finding.
    corroboration_max: float = option(20.0, min=0, max=100)
    #: Bonus per ATT&CK tactic beyond the first in one incident.
    breadth_per_tactic: float = option(5.0, min=0, max=100)
    #: How many analytics an incident's explanation names before "other analytics".
    top_parts: int = option(5, min=1, max=50)


def _by(value: list[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(slots=True)
class SuppressWindow:
    """Keep the first finding of ``analytic`` per ``by`` entities per window; count the rest."""

    analytic: str = option(nonempty=True)
    window_ms: int = option(key="window", accepts=Duration, convert=duration_ms)
    by: tuple[str, ...] = option(("host",), accepts=list[str] | str, convert=_by)


@dataclass(slots=True)
class RuleSpec:
    """An exception (with ``analytic``) or an allowlist entry (without), as configured."""

    match: dict[str, str]
    analytic: str = ""
    reason: str = ""


def _spec(item: dict[str, Any], where: str, need_analytic: bool) -> RuleSpec:
    analytic = str(item.get("analytic", "") or "")
    reason = str(item.get("reason", "") or "")
    if "kind" in item or "value" in item:
        if not item.get("kind") or not item.get("value"):
            raise ValueError(f"{where}: 'kind' and 'value' go together")
        match = {str(item["kind"]): str(item["value"])}
    else:
        match = {
            k: str(v) for k, v in item.items() if k not in ("analytic", "reason") and v is not None
        }
    if need_analytic and not analytic:
        raise ValueError(f"{where}: an exception needs an 'analytic'")
    if not match and not analytic:
        raise ValueError(f"{where}: matches nothing (give entity conditions)")
    return RuleSpec(match=match, analytic=analytic, reason=reason)


def _exceptions(items: list[dict[str, Any]]) -> list[RuleSpec]:
    """``[[triage.exceptions]]``: an analytic and entity conditions (any entity kind)."""
    return [_spec(item, f"#{i}", True) for i, item in enumerate(items, 1)]


def _allowlist(items: list[dict[str, Any]]) -> list[RuleSpec]:
    """``[[triage.allowlist]]``: an entity allowed for every analytic."""
    return [_spec(item, f"#{i}", False) for i, item in enumerate(items, 1)]


@dataclass(slots=True)
class NoiseConfig:
    dedup_window_ms: int = duration(HOUR_MS, "dedup_window")
    evidence_cap: int = option(100, min=1, max=100_000)
    suppress: list[SuppressWindow] = field(default_factory=list)
    exceptions: list[RuleSpec] = option(
        default_factory=list, accepts=list[dict[str, Any]], convert=_exceptions
    )
    allowlist: list[RuleSpec] = option(
        default_factory=list, accepts=list[dict[str, Any]], convert=_allowlist
    )


@dataclass(slots=True)
class EnrichConfig:
    #: Configuration changes on an asset within this long before a finding are attached.
    change_window_ms: int = duration(7 * DAY_MS, "change_window")


@dataclass(slots=True)
class TriageTable(NoiseConfig):
    """``[triage]`` as written: the noise settings and the ``risk`` and ``enrich`` tables."""

    risk: RiskConfig = field(default_factory=RiskConfig)
    enrich: EnrichConfig = field(default_factory=EnrichConfig)


@dataclass(slots=True)
class CorrelationConfig:
    """How findings join into incidents (``[correlate]``)."""

    #: Two findings sharing an entity join when the gap between them is at most
    #: ``short_window``; two *serious* ones (severity >= ``serious_severity``) within ``window``.
    window_ms: int = duration(DAY_MS, "window")
    short_window_ms: int = duration(4 * HOUR_MS, "short_window")
    serious_severity: int = option(4, min=0, max=6)
    #: A lateral-movement finding joins findings on other hosts starting this soon after it.
    lateral_bridge_ms: int = duration(15_000, "lateral_bridge")
    #: A chain of findings longer than this is cut at its largest gaps.
    max_span_ms: int = duration(7 * DAY_MS, "max_span")
    #: An entity on more than this share of a window's findings (and more than ``hub_min``)
    #: is a hub in that window. Only bites at scale: in a small run the victim host *is*
    #: the most frequent entity.
    hub_share: float = option(0.5, min=0, max=1)
    hub_min: int = option(200, min=1, max=1e9)
    #: An entity seen beside more than this many distinct recurring entities is a hub.
    hub_fanout: int = option(40, min=1, max=1e9)
    #: A finding naming more entities than this of one kind does not link through that kind.
    max_per_kind: int = option(3, min=1, max=1e6)
    #: Hashes and domains seen on more than this many hosts are hubs (common binaries).
    spread_max_hosts: int = option(3, min=0, max=1e9)
    spread_kinds: tuple[str, ...] = option(("hash", "domain"), choices=get_args(EntityKind))
    #: Similar past incidents reported per incident.
    similar_k: int = option(3, min=0, max=100)


@dataclass(slots=True)
class TriageConfig:
    risk: RiskConfig = field(default_factory=RiskConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    enrich: EnrichConfig = field(default_factory=EnrichConfig)
    correlate: CorrelationConfig = field(default_factory=CorrelationConfig)


#: The stage tables this module reads, by their name in garrison.toml.
TABLES: dict[str, type[Any]] = {"triage": TriageTable, "correlate": CorrelationConfig}


def load_triage_config(raw: dict[str, Any], file: Path | None = None) -> TriageConfig:
    """Read ``[triage]`` (with ``[triage.risk]``, ``[triage.enrich]``) and ``[correlate]``."""
    triage = load_options(TriageTable, raw.get("triage"), where="triage", file=file)
    noise = NoiseConfig(**{f.name: getattr(triage, f.name) for f in fields(NoiseConfig)})
    return TriageConfig(
        risk=triage.risk,
        noise=noise,
        enrich=triage.enrich,
        correlate=load_options(
            CorrelationConfig, raw.get("correlate"), where="correlate", file=file
        ),
    )


__all__ = [
    "TABLES",
    "CorrelationConfig",
    "EnrichConfig",
    "NoiseConfig",
    "RiskConfig",
    "RuleSpec",
    "SuppressWindow",
    "TriageConfig",
    "TriageTable",
    "duration_ms",
    "load_triage_config",
    "parse_duration",
]
