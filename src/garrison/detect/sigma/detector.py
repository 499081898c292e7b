"""The ``sigma`` detector: loads rules from ``--rules`` folders, matches events, reports findings.

Findings (see docs/contracts.md):
- ``analytic_uid`` = the Sigma rule id, ``analytic_name`` = ``title`` = the rule title;
- ``attacks`` from the rule's ATT&CK tags (offline names and tactics);
- ``severity_id`` from ``level``: informational 1, low 2, medium 3, high 4, critical 5
  (no level: medium);
- ``confidence`` from ``status`` (stable 80, test 70, experimental 55, deprecated or
  unsupported 35, none 50) moved by ``level`` (critical +10, high +5, low -5,
  informational -10): how much the rule's authors vouch for it, not how bad the behaviour is;
- evidences = the triggering events; grouping and suppression: see noise.py;
- ``explanation`` = which named detections matched, on which field values;
- correlation findings name what they aggregate over: the group-by values (user, host,
  address) and, for value_count, the distinct values counted (at most ``MAX_NAMED_VALUES``,
  the rest counted and flagged as capped), as entities and in the explanation, while the
  evidences stay the real triggering events.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import Counter
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from garrison.core.attack import attacks_from_tags
from garrison.core.entities import Entity, entities_of
from garrison.core.events import Event
from garrison.core.findings import (
    SEVERITY_CRITICAL,
    SEVERITY_HIGH,
    SEVERITY_INFORMATIONAL,
    SEVERITY_LOW,
    SEVERITY_MEDIUM,
    Attack,
    Evidence,
    Finding,
)
from garrison.core.gctune import gc_paused
from garrison.detect.base import DETECTORS, Detector, DetectorContext
from garrison.detect.sigma.cache import RuleCache
from garrison.detect.sigma.compile import leaves
from garrison.detect.sigma.correlation import CorrelationHit, CorrelationState, field_entity
from garrison.detect.sigma.engine import Engine, Match, RuleMeta
from garrison.detect.sigma.loader import load_rules, load_texts
from garrison.detect.sigma.noise import Grouper, SigmaOptions
from garrison.detect.sigma.ruleset import RuleSet, build_ruleset
from garrison.detect.sigma.view import EventView, raw_text

log = logging.getLogger(__name__)

SEVERITY = {
    "informational": SEVERITY_INFORMATIONAL,
    "low": SEVERITY_LOW,
    "medium": SEVERITY_MEDIUM,
    "high": SEVERITY_HIGH,
    "critical": SEVERITY_CRITICAL,
}
_STATUS_CONFIDENCE = {
    "stable": 80,
    "test": 70,
    "experimental": 55,
    "deprecated": 35,
    "unsupported": 35,
}
_LEVEL_SHIFT = {"critical": 10, "high": 5, "medium": 0, "low": -5, "informational": -10}
#: Fields shown per evidence.
SUMMARY_FIELDS = 4
#: Distinct counted values (value_count) a correlation finding names; more are counted.
MAX_NAMED_VALUES = 50


def confidence_of(level: str, status: str) -> int:
    base = _STATUS_CONFIDENCE.get(status, 50) + _LEVEL_SHIFT.get(level, 0)
    return max(5, min(95, base))


@cache
def _attacks(tags: tuple[str, ...]) -> tuple[Attack, ...]:
    try:
        return tuple(attacks_from_tags(list(tags)))
    except Exception:  # ATT&CK data problems must not stop detection
        return ()


class SigmaDetector(Detector):
    id = "sigma"
    name = "Sigma rules"

    def __init__(
        self,
        ruleset: RuleSet,
        options: SigmaOptions | None = None,
        load_seconds: float = 0.0,
        cache_hits: int = 0,
    ) -> None:
        self.ruleset = ruleset
        self.options = options or SigmaOptions()
        self.engine = Engine(
            ruleset.rules, placeholders=self.options.placeholders, native=self.options.native
        )
        self.grouper = Grouper(self.options)
        self.correlations = CorrelationState(
            ruleset.correlations, self.options.correlation_max_matches
        )
        self.match_counts: Counter[str] = Counter()
        self.events_seen = 0
        self.events_matched = 0
        self.event_errors = 0
        self.findings = 0
        self.load_seconds = load_seconds
        self.cache_hits = cache_hits
        self._summary_fields: dict[tuple[int, str], list[str]] = {}
        self._titles = {r.meta.uid: r.meta.title for r in ruleset.rules}
        self._titles.update((c.meta.uid, c.meta.title) for c in ruleset.correlations)

    # ------------------------------------------------------------------ detection
    def observe(self, events: Sequence[Event]) -> list[Finding]:
        out: list[Finding] = []
        rules = self.engine.rules
        for event in events:
            try:
                matches, view = self.engine.match(
                    event.fields, event.provenance.source_format, event.class_uid, event.ocsf
                )
            except Exception:  # a hostile event must never stop the run
                self.event_errors += 1
                log.debug("sigma: event %s could not be evaluated", event.uid, exc_info=True)
                continue
            self.events_seen += 1
            if not matches:
                continue
            self.events_matched += 1
            for match in matches:
                meta = rules[match.rule].meta
                self.match_counts[meta.uid] += 1
                try:
                    finding = self._on_match(meta, match, event, view)
                except Exception:
                    self.event_errors += 1
                    log.debug("sigma: finding for %s failed", meta.uid, exc_info=True)
                    continue
                if finding is not None:
                    out.append(finding)
        self.findings += len(out)
        return out

    def _on_match(
        self, meta: RuleMeta, match: Match, event: Event, view: EventView
    ) -> Finding | None:
        evidence = Evidence(
            event.source_path, event.record_id, event.uid, event.time, self._summary(match, view)
        )
        if self.correlations.wants(match.rule):
            self.correlations.record(
                match.rule,
                event.time,
                lambda f: view[match.fieldmap(f)],
                evidence,
                entities_of(event.ocsf),
            )
        if meta.silent:
            return None
        window = self.grouper.window_ms(meta.uid, meta.title, meta.path)
        return self.grouper.add(
            meta.uid,
            window,
            event,
            evidence,
            lambda: self._finding(meta, match, event, view, evidence),
        )

    def _summary(self, match: Match, view: EventView) -> tuple[tuple[str, str], ...]:
        key = (match.rule, match.fieldmap.name)
        names = self._summary_fields.get(key)
        if names is None:
            names = []
            for leaf in leaves(self.engine.rules[match.rule].tree):
                if leaf.field and not leaf.negated and leaf.field not in names:
                    names.append(leaf.field)
            self._summary_fields[key] = names
        out: list[tuple[str, str]] = []
        for name in names:
            text = raw_text(view.raw(match.fieldmap(name)))
            if text is not None:
                out.append((name, text[:200]))
                if len(out) >= SUMMARY_FIELDS:
                    break
        return tuple(out)

    def _finding(
        self, meta: RuleMeta, match: Match, event: Event, view: EventView, evidence: Evidence
    ) -> Finding:
        held, shown = self.engine.explain(match, view)
        explanation: dict[str, Any] = {
            "rule": {
                "id": meta.id,
                "title": meta.title,
                "level": meta.level,
                "status": meta.status,
                "file": meta.path,
                "logsource": meta.logsource,
            },
            "condition": meta.condition,
            "matched_detections": held,
            "matched_fields": dict(shown),
        }
        if match.fieldmap.name:
            explanation["field_map"] = match.fieldmap.name
        if meta.falsepositives:
            explanation["falsepositives"] = meta.falsepositives
        return Finding(
            analytic_uid=meta.uid,
            analytic_name=meta.title,
            title=meta.title,
            time=event.time,
            severity_id=SEVERITY.get(meta.level, SEVERITY_MEDIUM),
            confidence=confidence_of(meta.level, meta.status),
            evidences=[evidence],
            attacks=list(_attacks(tuple(meta.tags))),
            entities=entities_of(event.ocsf),
            analytic_type="rule",
            description=meta.description,
            explanation=explanation,
        )

    # ------------------------------------------------------------------ end of run
    def finish(self) -> list[Finding]:
        out = [self._correlation_finding(hit) for hit in self.correlations.evaluate()]
        self.findings += len(out)
        return out

    def _correlation_finding(self, hit: CorrelationHit) -> Finding:
        meta = hit.spec.meta
        cap = self.options.max_evidences or len(hit.records)
        records = hit.records[:cap]
        grouped = hit.group_entities()
        counted = hit.counted_values()
        named = counted[:MAX_NAMED_VALUES]
        value_entities = [
            e for e in (field_entity(hit.spec.value_field, v) for v in named) if e is not None
        ]
        entities: list[Entity] = []
        for ent in [
            *grouped.values(),
            *value_entities,
            *(e for rec in records for e in rec.entities),
        ]:
            if ent not in entities:
                entities.append(ent)
        rules = self.engine.rules
        first = min((r.time for r in hit.records if r.time), default=0)
        explanation: dict[str, Any] = {
            "rule": {
                "id": meta.id,
                "title": meta.title,
                "level": meta.level,
                "status": meta.status,
                "file": meta.path,
            },
            "correlation": hit.spec.type,
            "group": hit.group,
            "group_entities": {k: e.key() for k, e in grouped.items()},
            "measured": hit.measured,
            "condition": {hit.spec.op: hit.spec.count},
            "timespan_seconds": hit.spec.timespan_ms // 1000,
            "rules_matched": [rules[r].meta.title for r in hit.rules_seen],
            "events": len(hit.records),
        }
        if hit.spec.value_field:
            explanation["counted"] = {
                "field": hit.spec.value_field,
                "distinct": len(counted),
                "values": named,
                "capped": len(counted) > len(named),
            }
        explanation["summary"] = _correlation_summary(hit, counted, named)
        self.match_counts[meta.uid] += 1
        return Finding(
            analytic_uid=meta.uid,
            analytic_name=meta.title,
            title=meta.title,
            time=first,
            severity_id=SEVERITY.get(meta.level, SEVERITY_MEDIUM),
            confidence=confidence_of(meta.level, meta.status),
            evidences=[r.evidence for r in records],
            attacks=list(_attacks(tuple(meta.tags))),
            entities=entities,
            analytic_type="correlation",
            description=meta.description,
            explanation=explanation,
            count=len(hit.records),
        )

    def stats(self) -> dict[str, Any]:
        return {
            "rules_loaded": self.ruleset.loaded,
            "rules_failed": len(self.ruleset.errors),
            "rules_disabled": self.ruleset.disabled,
            "rules_overridden": len(self.ruleset.overridden),
            "rules_overridden_detail": dict(self.ruleset.overridden),
            "rules_unmapped_logsource": len(self.ruleset.unmapped),
            "correlations": len(self.ruleset.correlations),
            "filters": self.ruleset.filters,
            "load_seconds": round(self.load_seconds, 3),
            "cache_hits": self.cache_hits,
            "events_seen": self.events_seen,
            "events_matched": self.events_matched,
            "event_errors": self.event_errors,
            "matches": sum(self.match_counts.values()),
            "rules_matched": len(self.match_counts),
            "findings": self.findings,
            "matches_folded": self.grouper.folded,
            "correlation_matches_dropped": self.correlations.dropped,
            "source_buckets": self.engine.buckets_built,
            "top_rules": [
                {"uid": uid, "title": self._titles.get(uid, uid), "matches": n}
                for uid, n in self.match_counts.most_common(25)
            ],
        }


def _correlation_summary(hit: CorrelationHit, counted: list[str], named: list[str]) -> str:
    """One sentence: what was counted, for whom, against which condition."""
    spec = hit.spec
    who = ", ".join(f"{k}={v}" for k, v in hit.group.items()) or "all events"
    what = {
        "event_count": "matching events",
        "value_count": f"distinct {spec.value_field} values",
        "temporal": "of the listed rules matched",
        "temporal_ordered": "of the listed rules matched in order",
    }.get(spec.type, f"{spec.type} of {spec.value_field}")
    text = (
        f"{who}: {hit.measured:g} {what} within {spec.timespan_ms // 1000} s "
        f"({spec.op} {spec.count:g}) over {len(hit.records)} event(s)"
    )
    if named:
        more = f" and {len(counted) - len(named)} more" if len(counted) > len(named) else ""
        text += f"; {spec.value_field}: {', '.join(named)}{more}"
    return text


def load_detector(
    paths: Sequence[Path],
    home: Path | None = None,
    options: dict[str, Any] | SigmaOptions | None = None,
) -> SigmaDetector:
    """Load rules under ``paths`` (cache under ``home/cache/sigma``) into a detector."""
    opts = (
        options if isinstance(options, SigmaOptions) else SigmaOptions.from_mapping(options or {})
    )
    started = time.perf_counter()
    cache_root = home / "cache" / "sigma" if home is not None and opts.cache else None
    with gc_paused():
        loaded = load_rules(paths, RuleCache(cache_root))
        ruleset = build_ruleset(loaded, opts)
    ruleset_cache_hits = loaded.cache_hits
    del loaded
    if opts.freeze_gc:
        gc.collect()
        gc.freeze()
    return SigmaDetector(ruleset, opts, time.perf_counter() - started, ruleset_cache_hits)


def detector_from_yaml(
    *texts: str, options: dict[str, Any] | SigmaOptions | None = None
) -> SigmaDetector:
    """A detector over rules given as YAML text (one rule file per text)."""
    opts = (
        options if isinstance(options, SigmaOptions) else SigmaOptions.from_mapping(options or {})
    )
    loaded = load_texts((f"rule{i}.yml", t) for i, t in enumerate(texts, start=1))
    return SigmaDetector(build_ruleset(loaded, opts), opts)


@DETECTORS.register("sigma")
def make_sigma_detector(ctx: DetectorContext) -> Detector | None:
    """No ``--rules`` given: nothing to do. Every rule that fails goes to ``load_errors``."""
    if not ctx.rules_dirs:
        return None
    detector = load_detector(ctx.rules_dirs, ctx.home, ctx.options)
    ctx.load_errors.update(detector.ruleset.errors)
    return detector
