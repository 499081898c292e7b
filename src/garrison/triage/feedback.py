"""Analyst feedback: per-rule precision from dispositions, and tuning suggestions.

Dispositions are the ground truth an analyst gives: true positive (``tp``), benign true
positive (``btp``: the analytic saw what it looks for, but it was allowed activity) and
false positive (``fp``). From them:

- per analytic: how many findings were reviewed, precision (tp / reviewed), FP rate;
- suggestions: an analytic that keeps producing fp/btp on the same entity with no tp there
  gets an exception suggested ("rule X: 12 FP on host Y -> suggest exception"), and an
  analytic with a poor record over many reviews is flagged for review.

Suggestions are advice. Nothing here changes a rule or suppresses a finding: the analyst
applies a suggestion (``garrison allowlist add ...``) or not. The rule history feeds
scoring as an advisory penalty only (``ScoreContext``), and never outweighs a verdict.
"""

from __future__ import annotations

import shlex
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from garrison.core.entities import Entity
from garrison.triage.scoring import RuleHistory

#: Entity kinds an exception is worth scoping to (an IP or domain list is an allowlist job).
EXCEPTION_KINDS = ("host", "user", "hash", "domain", "ip")


@dataclass(slots=True)
class RuleStats:
    analytic_uid: str
    analytic_name: str
    analytic_type: str
    findings: int = 0
    tp: int = 0
    btp: int = 0
    fp: int = 0

    @property
    def reviewed(self) -> int:
        return self.tp + self.btp + self.fp

    @property
    def precision(self) -> float | None:
        return self.tp / self.reviewed if self.reviewed else None

    @property
    def fp_rate(self) -> float | None:
        return self.fp / self.reviewed if self.reviewed else None

    def to_json(self) -> dict[str, Any]:
        return {
            "analytic_uid": self.analytic_uid,
            "analytic_name": self.analytic_name,
            "analytic_type": self.analytic_type,
            "findings": self.findings,
            "reviewed": self.reviewed,
            "tp": self.tp,
            "btp": self.btp,
            "fp": self.fp,
            "precision": self.precision,
            "fp_rate": self.fp_rate,
        }


@dataclass(slots=True, frozen=True)
class Suggestion:
    analytic_uid: str
    analytic_name: str
    kind: str  # "exception" or "review"
    text: str
    count: int
    entity: str = ""
    command: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "analytic_uid": self.analytic_uid,
            "analytic_name": self.analytic_name,
            "kind": self.kind,
            "text": self.text,
            "count": self.count,
            "entity": self.entity,
            "command": self.command,
        }


def rule_stats(
    rows: Iterable[Mapping[str, Any]], verdicts: Mapping[str, str]
) -> dict[str, RuleStats]:
    """Per-analytic counts from finding rows (``uid``, ``analytic_*``) and verdicts by uid."""
    stats: dict[str, RuleStats] = {}
    for row in rows:
        key = str(row["analytic_uid"])
        entry = stats.get(key)
        if entry is None:
            entry = stats[key] = RuleStats(
                key, str(row.get("analytic_name", "")), str(row.get("analytic_type", ""))
            )
        entry.findings += 1
        verdict = verdicts.get(str(row["uid"]), "")
        if verdict == "tp":
            entry.tp += 1
        elif verdict == "btp":
            entry.btp += 1
        elif verdict == "fp":
            entry.fp += 1
    return stats


def rule_history(stats: Mapping[str, RuleStats]) -> dict[str, RuleHistory]:
    return {k: RuleHistory(s.reviewed, s.fp) for k, s in stats.items() if s.reviewed}


def tuning_suggestions(
    rows: Iterable[Mapping[str, Any]],
    verdicts: Mapping[str, str],
    entities: Mapping[str, list[Entity]],
    min_count: int = 3,
    review_min: int = 10,
    review_precision: float = 0.1,
) -> list[Suggestion]:
    """Exceptions for (analytic, entity) pairs that only ever produced fp/btp, and reviews."""
    rows = list(rows)
    names = {str(r["analytic_uid"]): str(r.get("analytic_name", "")) for r in rows}
    benign: Counter[tuple[str, str]] = Counter()
    covered: dict[tuple[str, str], set[str]] = defaultdict(set)
    benign_kinds: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    malicious: set[tuple[str, str]] = set()
    for row in rows:
        verdict = verdicts.get(str(row["uid"]), "")
        if not verdict:
            continue
        auid = str(row["analytic_uid"])
        for e in entities.get(str(row["uid"]), []):
            if e.kind not in EXCEPTION_KINDS:
                continue
            if verdict == "tp":
                malicious.add((auid, e.key()))
            else:
                benign[(auid, e.key())] += 1
                benign_kinds[(auid, e.key())][verdict] += 1
                covered[(auid, e.key())].add(str(row["uid"]))
    out: list[Suggestion] = []
    seen: set[tuple[str, frozenset[str]]] = set()
    ranked = sorted(
        benign.items(),
        key=lambda kv: (-kv[1], EXCEPTION_KINDS.index(kv[0][1].split(":")[0]), kv[0]),
    )
    for (auid, key), count in ranked:
        if count < min_count or (auid, key) in malicious:
            continue
        same = (auid, frozenset(covered[(auid, key)]))
        if same in seen:
            continue  # a host and its user covering the same findings: one suggestion
        seen.add(same)
        kind, _, value = key.partition(":")
        label = "/".join(f"{n} {v.upper()}" for v, n in benign_kinds[(auid, key)].most_common())
        name = names.get(auid) or auid
        command = (
            f"garrison allowlist add {kind} {shlex.quote(value)} --analytic {shlex.quote(auid)}"
            f" --reason {shlex.quote(f'{count} benign dispositions')}"
        )
        out.append(
            Suggestion(
                auid,
                name,
                "exception",
                f"rule {name}: {label} on {kind} {value} -> suggest exception",
                count,
                key,
                command,
            )
        )
    for auid, s in rule_stats(rows, verdicts).items():
        precision = s.precision
        if s.reviewed >= review_min and precision is not None and precision <= review_precision:
            out.append(
                Suggestion(
                    auid,
                    s.analytic_name,
                    "review",
                    f"rule {s.analytic_name or auid}: {s.tp}/{s.reviewed} true positives "
                    f"({s.fp} FP, {s.btp} benign) -> review the rule or lower its severity",
                    s.reviewed,
                )
            )
    return out
