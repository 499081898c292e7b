"""Sigma correlation rules: event_count, value_count, temporal, temporal_ordered (+ value_sum,
value_avg, value_median, value_percentile), with group-by, aliases and timespan.

Base-rule matches are recorded as they stream by (time, group key, value, evidence), bounded
per correlation by ``max_matches`` (oldest dropped first, and counted). ``evaluate`` runs at
the end of the run, when input order no longer matters (files are not read in time order):
per group, matches are sorted by time and scanned with a window of ``timespan``.

Attribution: a hit names the entities it is about. ``group_entities`` reads the group-by
values as users, hosts or addresses (an address by its form, else by the field's name), and
``counted_values`` lists the distinct values a value_count counted (the accounts a spray
tried), in first-seen order; the detector turns both into the finding's entities.

Window semantics: for ``gt``/``gte`` thresholds (and temporal types) a sliding window fires
as soon as the condition holds and restarts after the last match it used, so one burst gives
one alert. Other operators (``lt``, ``lte``, ``eq``, ``neq``) and value aggregates are tested
on consecutive windows that open at a group's first unused match.
"""

from __future__ import annotations

import statistics
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from garrison.core.entities import Entity, EntityKind, normalize_entity
from garrison.core.findings import Evidence
from garrison.detect.sigma.engine import RuleMeta

_OPS: dict[str, Callable[[float, float], bool]] = {
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
}
SUPPORTED = {
    "event_count",
    "value_count",
    "temporal",
    "temporal_ordered",
    "value_sum",
    "value_avg",
    "value_median",
    "value_percentile",
}


@dataclass(slots=True)
class CorrelationSpec:
    meta: RuleMeta
    type: str
    rules: list[int]  # base rule indexes, in the order the correlation lists them
    group_by: list[str]
    #: group-by field -> {base rule index: that rule's field name}
    aliases: dict[str, dict[int, str]]
    timespan_ms: int
    op: str = "gte"
    count: float = 0
    value_field: str = ""
    percentile: int = 50
    expr: list[Any] | None = None  # extended condition: IR over base rule indexes


@dataclass(slots=True, order=True)
class Recorded:
    time: int
    seq: int
    rule: int = field(compare=False)
    group: tuple[str, ...] = field(compare=False)
    value: str | None = field(compare=False)
    evidence: Evidence = field(compare=False)
    entities: list[Any] = field(compare=False, default_factory=list)


@dataclass(slots=True)
class CorrelationHit:
    spec: CorrelationSpec
    group: dict[str, str]
    records: list[Recorded]
    measured: float
    rules_seen: list[int]

    def counted_values(self) -> list[str]:
        """Distinct values of the counted field (value_count etc.), first seen first."""
        if not self.spec.value_field:
            return []
        return list(dict.fromkeys(r.value for r in self.records if r.value))

    def group_entities(self) -> dict[str, Entity]:
        """Group-by field -> the entity its value names (fields naming nobody left out)."""
        out: dict[str, Entity] = {}
        for name, value in self.group.items():
            entity = field_entity(name, value)
            if entity is not None:
                out[name] = entity
        return out


_USER_FIELDS = (
    "targetusername subjectusername user username user_name accountname targetuser "
    "samaccountname src_user dst_user targetoutboundusername logonuser auth_user"
)
_HOST_FIELDS = (
    "computer computername hostname host workstationname workstation targetservername "
    "src_host dst_host sourcehostname destinationhostname"
)
_IP_FIELDS = (
    "ipaddress sourceip destinationip src_ip dst_ip sourceaddress destaddress "
    "destinationaddress clientaddress clientip orig_h resp_h ip c-ip remoteaddress"
)
_DOMAIN_FIELDS = "queryname query server_name domain dns_query question_name"
#: Field names (lower case, whole or their last dotted part) whose values name an entity:
#: Windows EventData, Sysmon, Zeek, syslog, ECS and OCSF spellings.
_FIELD_KINDS: dict[str, EntityKind] = {
    **dict.fromkeys(_USER_FIELDS.split(), "user"),
    **dict.fromkeys(_HOST_FIELDS.split(), "host"),
    **dict.fromkeys(_IP_FIELDS.split(), "ip"),
    **dict.fromkeys(_DOMAIN_FIELDS.split(), "domain"),
}
#: Dotted parents whose ``.name`` child names an entity (``user.name``, ``host.name``).
_PARENT_KINDS: dict[str, EntityKind] = {"user": "user", "host": "host", "device": "host"}


def field_kind(name: str) -> EntityKind | None:
    """Which entity a field's values name, from its name alone (None: unknown field)."""
    low = name.strip().lower()
    kind = _FIELD_KINDS.get(low)
    if kind is not None:
        return kind
    parts = [p for p in low.split(".") if p]
    if len(parts) < 2:
        return None
    if parts[-1] == "name":
        return _PARENT_KINDS.get(parts[-2])
    return _FIELD_KINDS.get(parts[-1])


def field_entity(name: str, value: str) -> Entity | None:
    """The entity a field value names: an address by its form, else by the field's kind."""
    address = normalize_entity("ip", value)
    if address is not None:
        return address
    kind = field_kind(name)
    return normalize_entity(kind, value) if kind is not None and kind != "ip" else None


class CorrelationState:
    """Records base-rule matches for every correlation that references them."""

    def __init__(self, specs: list[CorrelationSpec], max_matches: int = 200_000) -> None:
        self.specs = specs
        self.max_matches = max_matches
        self.by_rule: dict[int, list[int]] = {}
        for i, spec in enumerate(specs):
            for r in spec.rules:
                self.by_rule.setdefault(r, []).append(i)
        self._records: list[deque[Recorded]] = [deque() for _ in specs]
        self.dropped = 0
        self._seq = 0

    def wants(self, rule: int) -> bool:
        return rule in self.by_rule

    def record(
        self,
        rule: int,
        time: int,
        lookup: Callable[[str], Any],
        evidence: Evidence,
        entities: list[Any],
    ) -> None:
        """A base-rule match; ``lookup(field)`` reads the event (rule's field map applied)."""
        for i in self.by_rule.get(rule, ()):
            spec = self.specs[i]
            group = tuple(
                _text(lookup(spec.aliases.get(g, {}).get(rule, g))) for g in spec.group_by
            )
            value = _text(lookup(spec.value_field)) if spec.value_field else None
            self._seq += 1
            queue = self._records[i]
            if len(queue) >= self.max_matches:
                queue.popleft()
                self.dropped += 1
            queue.append(Recorded(time, self._seq, rule, group, value, evidence, entities))

    def evaluate(self) -> list[CorrelationHit]:
        hits: list[CorrelationHit] = []
        for spec, queue in zip(self.specs, self._records, strict=True):
            groups: dict[tuple[str, ...], list[Recorded]] = {}
            for rec in sorted(queue):
                groups.setdefault(rec.group, []).append(rec)
            for key, recs in groups.items():
                named = dict(zip(spec.group_by, key, strict=True))
                hits.extend(
                    CorrelationHit(spec, named, window, measured, seen)
                    for window, measured, seen in _scan(spec, recs)
                )
        return hits


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def _scan(
    spec: CorrelationSpec, recs: list[Recorded]
) -> list[tuple[list[Recorded], float, list[int]]]:
    if spec.type in ("temporal", "temporal_ordered"):
        return _scan_temporal(spec, recs)
    if spec.type in ("event_count", "value_count") and spec.op in ("gt", "gte"):
        return _scan_sliding(spec, recs)
    return _scan_tumbling(spec, recs)


def _measure(spec: CorrelationSpec, window: list[Recorded]) -> float | None:
    if spec.type == "event_count":
        return float(len(window))
    if spec.type == "value_count":
        return float(len({r.value for r in window if r.value}))
    numbers = []
    for r in window:
        if not r.value:
            continue
        try:
            numbers.append(float(r.value))
        except ValueError:
            continue
    if not numbers:
        return None
    if spec.type == "value_sum":
        return sum(numbers)
    if spec.type == "value_avg":
        return sum(numbers) / len(numbers)
    if spec.type == "value_median":
        return float(statistics.median(numbers))
    ordered = sorted(numbers)
    k = max(0, min(len(ordered) - 1, round(spec.percentile / 100 * (len(ordered) - 1))))
    return ordered[k]


def _scan_sliding(
    spec: CorrelationSpec, recs: list[Recorded]
) -> list[tuple[list[Recorded], float, list[int]]]:
    out = []
    op = _OPS[spec.op]
    start = 0
    values: Counter[str] = Counter()
    for end, rec in enumerate(recs):
        if rec.value:
            values[rec.value] += 1
        while rec.time - recs[start].time > spec.timespan_ms:
            old = recs[start].value
            if old:
                values[old] -= 1
                if not values[old]:
                    del values[old]
            start += 1
        measured = float(end - start + 1) if spec.type == "event_count" else float(len(values))
        if op(measured, spec.count):
            window = recs[start : end + 1]
            out.append((window, measured, sorted({r.rule for r in window})))
            start = end + 1
            values.clear()
    return out


def _scan_tumbling(
    spec: CorrelationSpec, recs: list[Recorded]
) -> list[tuple[list[Recorded], float, list[int]]]:
    out = []
    op = _OPS.get(spec.op, _OPS["gte"])
    i = 0
    while i < len(recs):
        j = i
        while j < len(recs) and recs[j].time - recs[i].time <= spec.timespan_ms:
            j += 1
        window = recs[i:j]
        measured = _measure(spec, window)
        if measured is not None and op(measured, spec.count):
            out.append((window, measured, sorted({r.rule for r in window})))
        i = j
    return out


def _expr_true(expr: list[Any], seen: set[int]) -> bool:
    kind = expr[0]
    if kind == "ref":
        return int(expr[1]) in seen
    if kind == "not":
        return not _expr_true(expr[1], seen)
    results = (_expr_true(e, seen) for e in expr[1])
    return all(results) if kind == "and" else any(results)


def _temporal_ok(spec: CorrelationSpec, window: list[Recorded]) -> tuple[bool, float]:
    seen = {r.rule for r in window}
    if spec.expr is not None:
        return _expr_true(spec.expr, seen), float(len(seen))
    if spec.type == "temporal_ordered":
        pos = 0
        for r in window:
            if pos < len(spec.rules) and r.rule == spec.rules[pos]:
                pos += 1
        measured = float(pos)
        need = spec.count if spec.count else len(spec.rules)
        return (
            pos == len(spec.rules) if not spec.count else _OPS[spec.op](measured, need),
            measured,
        )
    measured = float(len(seen & set(spec.rules)))
    if spec.count:
        return _OPS[spec.op](measured, spec.count), measured
    return measured == len(set(spec.rules)), measured


def _scan_temporal(
    spec: CorrelationSpec, recs: list[Recorded]
) -> list[tuple[list[Recorded], float, list[int]]]:
    out = []
    start = 0
    for end, rec in enumerate(recs):
        while rec.time - recs[start].time > spec.timespan_ms:
            start += 1
        window = recs[start : end + 1]
        ok, measured = _temporal_ok(spec, window)
        if ok:
            out.append((window, measured, sorted({r.rule for r in window})))
            start = end + 1
            if start >= len(recs):
                break
    return out
