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
``"7d"``. Every mistake is an ``InputError`` that names the key, never a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from garrison.core.errors import InputError

_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")

HOUR_MS = 3_600_000
DAY_MS = 86_400_000


def parse_duration(value: Any, where: str) -> int:
    """Milliseconds from an int (ms) or a string with a unit.

    >>> parse_duration("90s", "x"), parse_duration("1.5h", "x"), parse_duration(250, "x")
    (90000, 5400000, 250)
    """
    if isinstance(value, bool):
        raise InputError(f"config {where}: expected a duration, got {value!r}")
    if isinstance(value, int | float):
        ms = int(value)
    elif isinstance(value, str) and (m := _DURATION.match(value.lower())):
        ms = int(float(m.group(1)) * _UNITS[m.group(2)])
    else:
        raise InputError(
            f"config {where}: {value!r} is not a duration (use ms or e.g. '15m', '24h', '7d')"
        )
    if ms < 0:
        raise InputError(f"config {where}: duration must not be negative")
    return ms


@dataclass(slots=True)
class RiskConfig:
    """Risk-based alerting: how findings turn into entity risk, and when it opens an incident."""

    half_life_ms: int = DAY_MS
    #: Decayed entity risk at which an incident opens: the floor of the High band. A
    #: confident high-severity finding reaches it alone, two medium ones close together
    #: do too, low-severity ones alone never do (unless the asset or intel lifts them).
    threshold: float = 60.0
    #: Each further finding of the same analytic in one incident counts this much less.
    repeat_factor: float = 0.25
    #: In an incident's score the n-th strongest analytic counts ``stack_factor ** n``.
    stack_factor: float = 0.5
    #: An incident scores at most this much above its strongest finding.
    corroboration_max: float = 20.0
    #: Bonus per ATT&CK tactic beyond the first in one incident.
    breadth_per_tactic: float = 5.0
    #: How many analytics an incident's explanation names before "other analytics".
    top_parts: int = 5


@dataclass(slots=True)
class SuppressWindow:
    """Keep the first finding of ``analytic`` per ``by`` entities per window; count the rest."""

    analytic: str
    window_ms: int
    by: tuple[str, ...] = ("host",)


@dataclass(slots=True)
class RuleSpec:
    """An exception (with ``analytic``) or an allowlist entry (without), as configured."""

    match: dict[str, str]
    analytic: str = ""
    reason: str = ""


@dataclass(slots=True)
class NoiseConfig:
    dedup_window_ms: int = HOUR_MS
    evidence_cap: int = 100
    suppress: list[SuppressWindow] = field(default_factory=list)
    exceptions: list[RuleSpec] = field(default_factory=list)
    allowlist: list[RuleSpec] = field(default_factory=list)


@dataclass(slots=True)
class EnrichConfig:
    #: Configuration changes on an asset within this long before a finding are attached.
    change_window_ms: int = 7 * DAY_MS


@dataclass(slots=True)
class CorrelationConfig:
    """How findings join into incidents."""

    #: Two findings sharing an entity join when the gap between them is at most
    #: ``short_window``; two *serious* ones (severity >= ``serious_severity``) within ``window``.
    window_ms: int = DAY_MS
    short_window_ms: int = 4 * HOUR_MS
    serious_severity: int = 4
    #: A lateral-movement finding joins findings on other hosts starting this soon after it.
    lateral_bridge_ms: int = 15_000
    #: A chain of findings longer than this is cut at its largest gaps.
    max_span_ms: int = 7 * DAY_MS
    #: An entity on more than this share of a window's findings (and more than ``hub_min``)
    #: is a hub in that window. Only bites at scale: in a small run the victim host *is*
    #: the most frequent entity.
    hub_share: float = 0.5
    hub_min: int = 200
    #: An entity seen beside more than this many distinct recurring entities is a hub.
    hub_fanout: int = 40
    #: A finding naming more entities than this of one kind does not link through that kind.
    max_per_kind: int = 3
    #: Hashes and domains seen on more than this many hosts are hubs (common binaries).
    spread_max_hosts: int = 3
    spread_kinds: tuple[str, ...] = ("hash", "domain")
    #: Similar past incidents reported per incident.
    similar_k: int = 3


@dataclass(slots=True)
class TriageConfig:
    risk: RiskConfig = field(default_factory=RiskConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    enrich: EnrichConfig = field(default_factory=EnrichConfig)
    correlate: CorrelationConfig = field(default_factory=CorrelationConfig)


def _table(data: Any, where: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"config [{where}] must be a table")
    return data


def _number(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"config {where}: expected a number, got {value!r}")
    if not low <= float(value) <= high:
        raise InputError(f"config {where}: {value} is outside [{low}, {high}]")
    return float(value)


def _check_keys(data: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InputError(f"config [{where}]: unknown keys {unknown}")


def _risk(data: dict[str, Any]) -> RiskConfig:
    cfg = RiskConfig()
    _check_keys(
        data,
        {
            "half_life",
            "threshold",
            "repeat_factor",
            "stack_factor",
            "corroboration_max",
            "breadth_per_tactic",
            "top_parts",
        },
        "risk",
    )
    if "half_life" in data:
        cfg.half_life_ms = max(1, parse_duration(data["half_life"], "[triage.risk] half_life"))
    if "threshold" in data:
        cfg.threshold = _number(data["threshold"], "[triage.risk] threshold", 1, 1000)
    if "repeat_factor" in data:
        cfg.repeat_factor = _number(data["repeat_factor"], "[triage.risk] repeat_factor", 0, 1)
    if "stack_factor" in data:
        cfg.stack_factor = _number(data["stack_factor"], "[triage.risk] stack_factor", 0, 1)
    if "corroboration_max" in data:
        cfg.corroboration_max = _number(
            data["corroboration_max"], "[triage.risk] corroboration_max", 0, 100
        )
    if "breadth_per_tactic" in data:
        cfg.breadth_per_tactic = _number(
            data["breadth_per_tactic"], "[triage.risk] breadth_per_tactic", 0, 100
        )
    if "top_parts" in data:
        cfg.top_parts = int(_number(data["top_parts"], "[triage.risk] top_parts", 1, 50))
    return cfg


def _list_of_tables(data: Any, where: str) -> list[dict[str, Any]]:
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise InputError(f"config [[{where}]] must be a list of tables")
    return data


def _spec(item: dict[str, Any], where: str, need_analytic: bool) -> RuleSpec:
    analytic = str(item.get("analytic", "") or "")
    reason = str(item.get("reason", "") or "")
    if "kind" in item or "value" in item:
        if not item.get("kind") or not item.get("value"):
            raise InputError(f"config {where}: 'kind' and 'value' go together")
        match = {str(item["kind"]): str(item["value"])}
    else:
        match = {
            k: str(v) for k, v in item.items() if k not in ("analytic", "reason") and v is not None
        }
    if need_analytic and not analytic:
        raise InputError(f"config {where}: an exception needs an 'analytic'")
    if not match and not analytic:
        raise InputError(f"config {where}: matches nothing (give entity conditions)")
    return RuleSpec(match=match, analytic=analytic, reason=reason)


def _noise(data: dict[str, Any]) -> NoiseConfig:
    cfg = NoiseConfig()
    if "dedup_window" in data:
        cfg.dedup_window_ms = parse_duration(data["dedup_window"], "[triage] dedup_window")
    if "evidence_cap" in data:
        cfg.evidence_cap = int(_number(data["evidence_cap"], "[triage] evidence_cap", 1, 100_000))
    for i, item in enumerate(_list_of_tables(data.get("suppress"), "triage.suppress"), 1):
        if not item.get("analytic") or "window" not in item:
            raise InputError(f"config [[triage.suppress]] #{i}: needs 'analytic' and 'window'")
        by = item.get("by", ["host"])
        if isinstance(by, str):
            by = [by]
        cfg.suppress.append(
            SuppressWindow(
                analytic=str(item["analytic"]),
                window_ms=parse_duration(item["window"], f"[[triage.suppress]] #{i} window"),
                by=tuple(str(b) for b in by),
            )
        )
    for i, item in enumerate(_list_of_tables(data.get("exceptions"), "triage.exceptions"), 1):
        cfg.exceptions.append(_spec(item, f"[[triage.exceptions]] #{i}", True))
    for i, item in enumerate(_list_of_tables(data.get("allowlist"), "triage.allowlist"), 1):
        cfg.allowlist.append(_spec(item, f"[[triage.allowlist]] #{i}", False))
    return cfg


def _correlate(data: dict[str, Any]) -> CorrelationConfig:
    cfg = CorrelationConfig()
    _check_keys(
        data,
        {
            "window",
            "short_window",
            "serious_severity",
            "lateral_bridge",
            "max_span",
            "hub_share",
            "hub_min",
            "hub_fanout",
            "similar_k",
            "spread_max_hosts",
            "max_per_kind",
        },
        "correlate",
    )
    if "window" in data:
        cfg.window_ms = parse_duration(data["window"], "[correlate] window")
    if "short_window" in data:
        cfg.short_window_ms = parse_duration(data["short_window"], "[correlate] short_window")
    if "serious_severity" in data:
        cfg.serious_severity = int(
            _number(data["serious_severity"], "[correlate] serious_severity", 0, 6)
        )
    if "lateral_bridge" in data:
        cfg.lateral_bridge_ms = parse_duration(data["lateral_bridge"], "[correlate] lateral_bridge")
    if "max_span" in data:
        cfg.max_span_ms = parse_duration(data["max_span"], "[correlate] max_span")
    if "hub_share" in data:
        cfg.hub_share = _number(data["hub_share"], "[correlate] hub_share", 0, 1)
    if "hub_min" in data:
        cfg.hub_min = int(_number(data["hub_min"], "[correlate] hub_min", 1, 1e9))
    if "hub_fanout" in data:
        cfg.hub_fanout = int(_number(data["hub_fanout"], "[correlate] hub_fanout", 1, 1e9))
    if "spread_max_hosts" in data:
        cfg.spread_max_hosts = int(
            _number(data["spread_max_hosts"], "[correlate] spread_max_hosts", 0, 1e9)
        )
    if "max_per_kind" in data:
        cfg.max_per_kind = int(_number(data["max_per_kind"], "[correlate] max_per_kind", 1, 1e6))
    if "similar_k" in data:
        cfg.similar_k = int(_number(data["similar_k"], "[correlate] similar_k", 0, 100))
    return cfg


def load_triage_config(raw: dict[str, Any]) -> TriageConfig:
    """Read ``[triage]``, ``[triage.risk]``, ``[triage.enrich]`` and ``[correlate]``."""
    triage = _table(raw.get("triage"), "triage")
    known = {"risk", "enrich", "suppress", "exceptions", "allowlist"} | {
        "dedup_window",
        "evidence_cap",
    }
    _check_keys(triage, known, "triage")
    enrich = EnrichConfig()
    enrich_data = _table(triage.get("enrich"), "triage.enrich")
    _check_keys(enrich_data, {"change_window"}, "triage.enrich")
    if "change_window" in enrich_data:
        enrich.change_window_ms = parse_duration(
            enrich_data["change_window"], "[triage.enrich] change_window"
        )
    return TriageConfig(
        risk=_risk(_table(triage.get("risk"), "triage.risk")),
        noise=_noise(triage),
        enrich=enrich,
        correlate=_correlate(_table(raw.get("correlate"), "correlate")),
    )


__all__ = [
    "CorrelationConfig",
    "EnrichConfig",
    "NoiseConfig",
    "RiskConfig",
    "RuleSpec",
    "SuppressWindow",
    "TriageConfig",
    "load_triage_config",
    "parse_duration",
]
