"""Exceptions and allowlists: rules that mark findings suppressed, with the reason kept.

One rule type covers both. An *allowlist* entry names an entity (``domain
*.windowsupdate.com``, ``ip 10.8.0.0/16``, ``user svc_backup``) and applies to every
analytic; an *exception* is scoped to analytics by a glob over the analytic uid or name,
and may add entity conditions (``rule X on host backup01``). All conditions must hold.

Patterns: a CIDR for ``ip``; a glob when the value has ``*``, ``?`` or ``[``; otherwise an
exact, case-insensitive match after the same normalisation entities get (so ``CORP\\Bob``
matches ``bob`` and ``WS01.corp.example`` matches ``ws01``). Kind ``any`` matches an entity
of any kind.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from garrison.core.entities import Entity, EntityKind, normalize_entity
from garrison.core.findings import Finding
from garrison.triage.config import RuleSpec
from garrison.triage.marks import disposition_of, is_suppressed, mark_suppressed

ENTITY_KINDS = ("user", "host", "ip", "domain", "hash", "process", "any")


class RuleError(ValueError):
    """A rule that cannot be used; the message says which part is wrong."""


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern.lower()))


@dataclass(slots=True)
class _Condition:
    kind: str
    pattern: str
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    regex: re.Pattern[str] | None = None
    exact: str = ""

    @classmethod
    def parse(cls, kind: str, pattern: str) -> _Condition:
        kind = kind.strip().lower()
        if kind not in ENTITY_KINDS:
            raise RuleError(f"unknown entity kind {kind!r} (use one of {', '.join(ENTITY_KINDS)})")
        text = pattern.strip()
        if not text:
            raise RuleError(f"empty value for {kind}")
        cond = cls(kind, text)
        if kind == "ip" and "/" in text:
            try:
                cond.network = ipaddress.ip_network(text, strict=False)
            except ValueError as exc:
                raise RuleError(f"{text!r} is not a CIDR network") from exc
        elif any(c in text for c in "*?["):
            cond.regex = _glob(text)
        else:
            normal = normalize_entity(cast(EntityKind, kind), text) if kind != "any" else None
            cond.exact = normal.value if normal is not None else text.lower()
        return cond

    def matches(self, entity: Entity) -> bool:
        if self.kind != "any" and entity.kind != self.kind:
            return False
        if self.network is not None:
            try:
                return ipaddress.ip_address(entity.value) in self.network
            except ValueError:
                return False
        if self.regex is not None:
            return bool(self.regex.match(entity.value.lower()))
        return entity.value.lower() == self.exact


@dataclass(slots=True)
class SuppressionRule:
    """``analytic`` glob (empty = any analytic) and entity conditions that must all hold."""

    conditions: list[_Condition]
    analytic: str = ""
    reason: str = ""
    #: "exception", "allowlist" or "allowlist #7" (a stored entry): shown with the finding.
    origin: str = "allowlist"
    _analytic_re: re.Pattern[str] | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls, match: dict[str, str], analytic: str = "", reason: str = "", origin: str = ""
    ) -> SuppressionRule:
        conditions = [_Condition.parse(k, v) for k, v in match.items()]
        if not conditions and not analytic:
            raise RuleError("a rule needs an analytic or at least one entity condition")
        origin = origin or ("exception" if analytic else "allowlist")
        return cls(conditions, analytic, reason, origin, _glob(analytic) if analytic else None)

    @classmethod
    def from_spec(cls, spec: RuleSpec, origin: str) -> SuppressionRule:
        return cls.build(spec.match, spec.analytic, spec.reason, origin)

    def describe(self) -> str:
        what = " ".join(f"{c.kind} {c.pattern}" for c in self.conditions)
        scope = f"analytic {self.analytic}" if self.analytic else ""
        text = ", ".join(p for p in (scope, what) if p)
        return f"{self.origin}: {text}" + (f" ({self.reason})" if self.reason else "")

    def matches_analytic(self, uid: str, name: str) -> bool:
        if self._analytic_re is None:
            return True
        return bool(self._analytic_re.match(uid.lower()) or self._analytic_re.match(name.lower()))

    def matches(self, analytic_uid: str, analytic_name: str, entities: Sequence[Entity]) -> bool:
        if not self.matches_analytic(analytic_uid, analytic_name):
            return False
        return all(any(c.matches(e) for e in entities) for c in self.conditions)

    def to_json(self) -> dict[str, Any]:
        return {
            "analytic": self.analytic,
            "match": {c.kind: c.pattern for c in self.conditions},
            "reason": self.reason,
            "origin": self.origin,
        }


def apply_rules(findings: Iterable[Finding], rules: Sequence[SuppressionRule]) -> int:
    """Mark matching findings suppressed (an analyst's true positive is never suppressed)."""
    if not rules:
        return 0
    count = 0
    for finding in findings:
        if is_suppressed(finding) or disposition_of(finding) == "tp":
            continue
        for rule in rules:
            if rule.matches(finding.analytic_uid, finding.analytic_name, finding.entities):
                mark_suppressed(finding, rule.describe())
                count += 1
                break
    return count
