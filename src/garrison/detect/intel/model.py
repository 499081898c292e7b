"""Indicators as the readers produce them, the index the matcher looks them up in, and the
load report (what could not be used, and why).

Every reader (STIX, MISP, plain IOC lists) turns a feed into ``Indicator`` objects whose
``value`` is canonical (``values.canonical``); ``IntelSet`` keys them by (kind, value) in
plain dicts, so matching an event is a handful of hash look-ups whatever the feed size.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from garrison.detect.intel.warninglists import WarningLists

#: Confidence given to an indicator whose feed states none (said so on the finding).
DEFAULT_CONFIDENCE = 70
#: Examples of unusable indicators kept per reason (the counts are complete).
_EXAMPLES_PER_REASON = 3
#: Distinct reasons kept; a hostile feed cannot grow the report without bound.
_MAX_REASONS = 100


def reason_of(exc: Exception) -> str:
    """The categorical part of a message; the details (in parentheses or quotes) are dropped.

    >>> reason_of(ValueError("bad epoch timestamp 'x' (y)"))
    'bad epoch timestamp'
    """
    return str(exc).split(" (", 1)[0].split(" '", 1)[0].strip()[:80]


@dataclass(slots=True, frozen=True)
class Related:
    """An object an indicator ``indicates`` (STIX) or a galaxy cluster it is tagged with."""

    type: str
    name: str
    attacks: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "name": self.name}
        if self.attacks:
            out["attack"] = list(self.attacks)
        return out


@dataclass(slots=True, frozen=True)
class Indicator:
    """One matchable value from a feed, with what the feed says about it.

    ``detect`` is False for context-only entries (MISP attributes without ``to_ids``): they
    never make a finding. ``valid_from``/``valid_until`` are ms epoch (None: unbounded).
    ``attacks`` are technique ids (``T1071.001``); ``tactics`` ATT&CK tactic short names.
    """

    kind: str
    value: str
    source: str
    ref: str = ""
    confidence: int | None = None
    labels: tuple[str, ...] = ()
    attacks: tuple[str, ...] = ()
    tactics: tuple[str, ...] = ()
    related: tuple[Related, ...] = ()
    valid_from: int | None = None
    valid_until: int | None = None
    created: str = ""
    modified: str = ""
    name: str = ""
    description: str = ""
    tlp: str = ""
    #: MISP event threat level (1 high .. 4 undefined); 0 when the feed has none.
    threat_level: int = 0
    detect: bool = True
    #: The feed's own field for the value (``domain-name:value``, MISP ``ip-dst|port``).
    feed_type: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.value

    def valid_at(self, time_ms: int) -> bool:
        if self.valid_from is not None and time_ms < self.valid_from:
            return False
        return not (self.valid_until is not None and time_ms >= self.valid_until)

    def to_json(self) -> dict[str, Any]:
        """The explanation block of a finding (also what triage reads as ``intel``)."""
        out: dict[str, Any] = {
            "indicator": self.value,
            "kind": self.kind,
            "confidence": self.confidence if self.confidence is not None else DEFAULT_CONFIDENCE,
            "confidence_stated": self.confidence is not None,
            "source": self.source,
        }
        optional: dict[str, Any] = {
            "id": self.ref,
            "feed_type": self.feed_type,
            "name": self.name,
            "description": self.description[:500],
            "created": self.created,
            "modified": self.modified,
            "labels": list(self.labels),
            "tags": list(self.labels),
            "tlp": self.tlp,
            "attack": list(self.attacks),
            "kill_chain": list(self.tactics),
            "related": [r.to_json() for r in self.related],
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        }
        out.update({k: v for k, v in optional.items() if v not in ("", [], None)})
        return out


@dataclass(slots=True)
class LoadReport:
    """What the readers did: files read or refused, indicators kept, unusable ones by reason."""

    files: list[str] = field(default_factory=list)
    files_failed: dict[str, str] = field(default_factory=dict)
    unusable: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    #: indicators refused by a warning list, per list name (warninglists.py)
    suppressed: Counter[str] = field(default_factory=Counter)
    suppressed_examples: dict[str, list[str]] = field(default_factory=dict)
    #: list name -> the list's own title
    suppressed_lists: dict[str, str] = field(default_factory=dict)

    def reject(self, reason: str, where: str) -> None:
        if reason not in self.unusable and len(self.unusable) >= _MAX_REASONS:
            reason = "other reasons"
        self.unusable[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < _EXAMPLES_PER_REASON:
            shown.append(where[:200])

    def suppress(self, list_name: str, title: str, where: str) -> None:
        self.suppressed[list_name] += 1
        self.suppressed_lists.setdefault(list_name, title)
        shown = self.suppressed_examples.setdefault(list_name, [])
        if len(shown) < _EXAMPLES_PER_REASON:
            shown.append(where[:300])

    def fail(self, path: str, reason: str) -> None:
        self.files_failed[path] = reason[:300]

    def to_json(self) -> dict[str, Any]:
        return {
            "files": list(self.files),
            "files_failed": dict(self.files_failed),
            "unusable": dict(self.unusable.most_common()),
            "unusable_total": sum(self.unusable.values()),
            "unusable_examples": {k: list(v) for k, v in self.examples.items()},
            "suppressed": dict(self.suppressed.most_common()),
            "suppressed_total": sum(self.suppressed.values()),
            "suppressed_lists": dict(self.suppressed_lists),
            "suppressed_examples": {k: list(v) for k, v in self.suppressed_examples.items()},
        }


@dataclass(slots=True)
class IntelSet:
    """Indicators indexed by kind and canonical value; several feeds may list one value."""

    by_kind: dict[str, dict[str, list[Indicator]]] = field(
        default_factory=lambda: {k: {} for k in ("ip", "domain", "url", "hash", "email")}
    )
    report: LoadReport = field(default_factory=LoadReport)
    #: Over-broad values refused before indexing (None: no lists, e.g. hand-built sets).
    warnings: WarningLists | None = None
    _seen: set[tuple[Any, ...]] = field(default_factory=set)

    def add(self, indicator: Indicator) -> None:
        """Index one indicator; an identical repeat (same feed entry twice) is dropped, and
        one a warning list refuses is counted and never indexed (so it never matches)."""
        ident = (indicator.kind, indicator.value, indicator.source, indicator.ref, indicator.detect)
        if ident in self._seen:
            self.report.reject("duplicate entry", f"{indicator.source} {indicator.value}")
            return
        if self.warnings is not None:
            refusal = self.warnings.check(indicator.kind, indicator.value)
            if refusal is not None:
                self._seen.add(ident)
                self.report.suppress(
                    refusal.list,
                    self.warnings.describe(refusal.list),
                    f"{indicator.source}: {indicator.kind} {indicator.value}: {refusal.reason}",
                )
                return
        self._seen.add(ident)
        self.by_kind.setdefault(indicator.kind, {}).setdefault(indicator.value, []).append(
            indicator
        )

    def get(self, kind: str, value: str) -> list[Indicator]:
        return self.by_kind.get(kind, {}).get(value, [])

    def counts(self) -> dict[str, int]:
        return {
            kind: sum(len(v) for v in index.values())
            for kind, index in self.by_kind.items()
            if index
        }

    def __len__(self) -> int:
        return sum(self.counts().values())
