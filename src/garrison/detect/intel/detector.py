"""Detector ``intel``: events that name a value a threat-intelligence feed lists.

The hunt's ``--intel`` files (STIX 2.x bundles, MISP event exports or feed folders, plain
IOC lists; ``loader``) are indexed once; every event's IPs, domains, URLs, hashes and
e-mail senders are looked up (``match``). An indicator detects when the feed marks it so
(MISP ``to_ids``; every STIX indicator and IOC-list entry) and the event time lies in its
validity window (STIX ``valid_from`` / ``valid_until``; an event time outside 2000-2100
cannot be compared and is matched, said so on the finding).

One finding per (indicator value, actor) -- the actor being the event's host, else its
source address, else its user -- with repeats folded in (``count``, up to
``max_evidence`` events as evidence). Title ``Threat intel: <type> <value> (<source>)``;
confidence the feed's (highest of the matching entries; 70 when none is stated, said so);
severity from the type (hash and URL High, IP / domain / e-mail Medium), raised to High by
MISP threat level 1 or a related malware / threat actor, lowered by labels
``anomalous-activity`` / MISP threat level 3 (Low) or ``benign`` (Informational); ATT&CK
from the feed, else a default per type (stated): T1071 for IPs and domains, T1071.001 for
URLs, T1204.002 for file hashes, T1566 for e-mail senders. The explanation carries every
matching feed entry (id, source file, created / modified, labels, related malware and
actors, the field it matched in) under ``intel``, which triage reads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from garrison.core.attack import attack_of, attacks_from_tags
from garrison.core.entities import Entity, EntityKind, normalize_entity
from garrison.core.events import Event
from garrison.core.findings import (
    SEVERITY_HIGH,
    SEVERITY_INFORMATIONAL,
    SEVERITY_LOW,
    SEVERITY_MEDIUM,
    Attack,
    Evidence,
    Finding,
)
from garrison.core.options import option
from garrison.core.paths import dig
from garrison.core.timeutil import in_range
from garrison.detect.base import DETECTORS, Detector, DetectorContext
from garrison.detect.intel.loader import load_intel_files
from garrison.detect.intel.match import Hit, Matcher
from garrison.detect.intel.model import DEFAULT_CONFIDENCE, Indicator, IntelSet
from garrison.detect.intel.values import url_host
from garrison.detect.intel.warninglists import ALL_LISTS
from garrison.detect.options import DETECTOR_OPTIONS, options_of

DETECTOR_ID = "intel"
_MAX_EVIDENCE = 20
_MAX_ENTRIES = 10
_BASE_SEVERITY = {
    "hash": SEVERITY_HIGH,
    "url": SEVERITY_HIGH,
    "ip": SEVERITY_MEDIUM,
    "domain": SEVERITY_MEDIUM,
    "email": SEVERITY_MEDIUM,
}
_DEFAULT_ATTACK = {
    "ip": "T1071",
    "domain": "T1071",
    "url": "T1071.001",
    "hash": "T1204.002",
    "email": "T1566",
}
_THREAT_TYPES = frozenset({"malware", "threat-actor", "intrusion-set", "campaign"})
_KIND_NAMES = {"ip": "IP", "domain": "domain", "url": "URL", "hash": "hash", "email": "e-mail"}


@DETECTOR_OPTIONS.register(DETECTOR_ID)
@dataclass(slots=True, frozen=True)
class IntelOptions:
    """``[detectors.intel]``: how many events a finding cites."""

    max_evidence: int = option(_MAX_EVIDENCE, min=1)
    max_entries: int = option(_MAX_ENTRIES, min=1)
    #: Warning lists not applied to the feeds (names in ``warninglists.ALL_LISTS``).
    warninglists_skip: tuple[str, ...] = option((), choices=ALL_LISTS)


@dataclass(slots=True)
class _Group:
    """Matches of one indicator value by one actor, folded into one finding."""

    kind: str
    value: str
    first: int
    entries: dict[tuple[str, str], Indicator] = field(default_factory=dict)
    fields: dict[str, None] = field(default_factory=dict)
    observed: dict[str, None] = field(default_factory=dict)
    evidences: list[Evidence] = field(default_factory=list)
    entities: dict[Entity, None] = field(default_factory=dict)
    count: int = 0
    time_unknown: int = 0


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _actors(event: Event) -> list[Entity]:
    """Who did it: host, source address, user (flat fields when OCSF lacks them)."""
    ocsf = event.ocsf if isinstance(event.ocsf, dict) else {}
    flat = event.fields if isinstance(event.fields, dict) else {}
    candidates: list[tuple[EntityKind, str]] = [
        ("host", _text(dig(ocsf, "device.hostname")) or _text(flat.get("Computer"))),
        ("ip", _text(dig(ocsf, "src_endpoint.ip")) or _text(flat.get("id.orig_h"))),
        ("user", _text(dig(ocsf, "actor.user.name")) or _text(dig(ocsf, "user.name"))),
    ]
    out: list[Entity] = []
    for kind, value in candidates:
        entity = normalize_entity(kind, value[:300]) if value else None
        if entity is not None:
            out.append(entity)
    return out


def _matched_entity(hit: Hit) -> Entity | None:
    if hit.kind == "ip":
        return normalize_entity("ip", hit.value)
    if hit.kind == "domain":
        return normalize_entity("domain", hit.value)
    if hit.kind == "hash":
        return normalize_entity("hash", hit.value)
    if hit.kind == "url":
        host = url_host(hit.value)
        return normalize_entity("ip", host) or normalize_entity("domain", host)
    return normalize_entity("domain", hit.value.rpartition("@")[2])


class IntelDetector(Detector):
    id = DETECTOR_ID
    name = "Threat intelligence match"

    def __init__(self, intel: IntelSet, options: IntelOptions | None = None) -> None:
        self.intel = intel
        self.options = options or IntelOptions()
        self.matcher = Matcher(intel)
        self.groups: dict[tuple[str, str, str], _Group] = {}
        self.counts: Counter[str] = Counter()
        self.failure = ""

    def observe(self, events: Sequence[Event]) -> list[Finding]:
        match = self.matcher.match
        for event in events:
            try:
                hits = match(event.ocsf, event.fields)
                if hits:
                    self._record(event, hits)
            except Exception as exc:  # hostile content must not stop the run
                self.counts["events_failed"] += 1
                self.failure = self.failure or f"{type(exc).__name__}: {str(exc)[:200]}"
        self.counts["events_seen"] += len(events)
        return []

    def _record(self, event: Event, hits: list[Hit]) -> None:
        time = event.time if isinstance(event.time, int) else 0
        known_time = in_range(time)
        actors: list[Entity] | None = None
        for hit in hits:
            live = [i for i in hit.indicators if i.detect]
            if len(live) < len(hit.indicators):
                self.counts["context_only_matches"] += 1
            if known_time:
                valid = [i for i in live if i.valid_at(time)]
                self.counts["outside_validity"] += len(live) - len(valid)
                live = valid
            if not live:
                continue
            if actors is None:
                actors = _actors(event)
            actor = actors[0].key() if actors else ""
            self._add(self._group(hit, actor, time), hit, live, event, actors, known_time)

    def _group(self, hit: Hit, actor: str, time: int) -> _Group:
        key = (hit.kind, hit.value, actor)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = _Group(hit.kind, hit.value, time)
        return group

    def _add(
        self,
        group: _Group,
        hit: Hit,
        live: list[Indicator],
        event: Event,
        actors: list[Entity],
        known_time: bool,
    ) -> None:
        self.counts["matches"] += 1
        group.count += 1
        group.time_unknown += not known_time
        group.first = min(group.first, event.time)
        for ind in live:
            if len(group.entries) < self.options.max_entries:
                group.entries.setdefault((ind.source, ind.ref), ind)
        if len(group.fields) < 10:
            group.fields.setdefault(hit.field)
        if len(group.observed) < 10:
            group.observed.setdefault(hit.observed)
        for entity in actors:
            if len(group.entities) < 20:
                group.entities.setdefault(entity)
        if len(group.evidences) < self.options.max_evidence and not any(
            e.event_uid == event.uid for e in group.evidences
        ):
            group.evidences.append(
                Evidence(
                    event.source_path,
                    event.record_id,
                    event.uid,
                    event.time,
                    (("indicator", hit.value[:255]), ("field", hit.field), ("seen", hit.observed)),
                )
            )

    def finish(self) -> list[Finding]:
        groups = sorted(self.groups.values(), key=lambda g: (g.first, g.kind, g.value))
        findings = [self._finding(g) for g in groups if g.evidences]
        self.counts["findings"] = len(findings)
        return findings

    def _finding(self, group: _Group) -> Finding:
        entries = list(group.entries.values())
        stated = [i.confidence for i in entries if i.confidence is not None]
        confidence = max(stated) if stated else DEFAULT_CONFIDENCE
        attacks, attack_source = _attacks(group.kind, entries)
        sources = list(dict.fromkeys(i.source for i in entries))
        shown = ", ".join(sources[:3]) + (f" +{len(sources) - 3}" if len(sources) > 3 else "")
        kind_name = _KIND_NAMES.get(group.kind, group.kind)
        entities: list[Entity] = []
        matched = _matched_entity(Hit(group.kind, group.value, "", "", []))
        if matched is not None:
            entities.append(matched)
        entities += [e for e in group.entities if e not in entities]
        explanation: dict[str, Any] = {
            "intel": [{**i.to_json(), "matched_fields": list(group.fields)} for i in entries],
            "matched": {
                "kind": group.kind,
                "indicator": group.value,
                "fields": list(group.fields),
                "observed": list(group.observed),
                "events": group.count,
            },
            "confidence_source": (
                "feed" if stated else f"default {DEFAULT_CONFIDENCE} (the feed states none)"
            ),
            "attack_source": attack_source,
        }
        if group.time_unknown:
            explanation["validity"] = (
                f"{group.time_unknown} event(s) with a time outside 2000-2100: "
                "validity windows not applied to them"
            )
        return Finding(
            analytic_uid=DETECTOR_ID,
            analytic_name=self.name,
            title=f"Threat intel: {kind_name} {group.value[:200]} ({shown})",
            time=group.first,
            severity_id=max(_severity(group.kind, i) for i in entries),
            confidence=confidence,
            evidences=list(group.evidences),
            attacks=attacks,
            entities=entities,
            analytic_type="intel",
            description=_description(group, entries, kind_name),
            explanation=explanation,
            count=group.count,
        )

    def stats(self) -> dict[str, Any]:
        detecting = Counter(
            i.kind
            for index in self.intel.by_kind.values()
            for found in index.values()
            for i in found
            if i.detect
        )
        out: dict[str, Any] = {
            "indicators": self.intel.counts(),
            "indicators_detecting": dict(detecting),
            **self.intel.report.to_json(),
            **{k: self.counts.get(k, 0) for k in ("events_seen", "matches", "findings")},
            **{k: v for k, v in self.counts.items() if k not in ("events_seen", "matches")},
        }
        if self.failure:
            out["first_event_failure"] = self.failure
        return out


def _severity(kind: str, ind: Indicator) -> int:
    labels = {label.lower() for label in ind.labels}
    if "benign" in labels:
        return SEVERITY_INFORMATIONAL
    severity = _BASE_SEVERITY.get(kind, SEVERITY_MEDIUM)
    if labels & {"anomalous-activity", "unknown"} or ind.threat_level == 3:
        return min(severity, SEVERITY_LOW)
    if ind.threat_level == 1 or any(r.type in _THREAT_TYPES for r in ind.related):
        return SEVERITY_HIGH
    return severity


def _attacks(kind: str, entries: list[Indicator]) -> tuple[list[Attack], str]:
    tags = [f"attack.{t.lower()}" for i in entries for t in i.attacks]
    tags += [f"attack.{t}" for i in entries for t in i.tactics]
    attacks = attacks_from_tags(list(dict.fromkeys(tags))) if tags else []
    if attacks:
        return attacks, "indicator"
    default = _DEFAULT_ATTACK.get(kind, "T1071")
    return [attack_of(default)], f"default for {kind} indicators (the feed names no technique)"


def _description(group: _Group, entries: list[Indicator], kind_name: str) -> str:
    related = list(dict.fromkeys(f"{r.type} {r.name}" for i in entries for r in i.related))
    text = (
        f"{group.count} event(s) named the {kind_name} {group.value[:200]}, listed by "
        f"{len(entries)} feed entr{'y' if len(entries) == 1 else 'ies'}"
    )
    if related:
        text += f"; related: {', '.join(related[:5])}"
    return text


@DETECTORS.register(DETECTOR_ID)
def build(ctx: DetectorContext) -> IntelDetector | None:
    """Nothing to do without ``--intel`` files. Files that could not be read and unusable
    indicators are in the detector's stats (summary.json), not in ``rules_failed``."""
    if not ctx.intel_files:
        return None
    options = options_of(ctx, IntelOptions)
    intel = load_intel_files(ctx.intel_files, options.warninglists_skip)
    return IntelDetector(intel, options)
