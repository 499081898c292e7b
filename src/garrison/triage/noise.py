"""Noise control: fold repeated findings, and keep the first of a burst while counting the rest.

*Deduplication*: findings of the same analytic about the same entities, each within
``dedup_window`` of the previous one, become one finding whose ``count`` is the number of
repeats and whose evidences are kept up to a cap (the first ``cap - 1`` and the latest, so
both ends of the episode stay visible). The finding keeps the uid of its first occurrence.

*Suppression windows* (configured per analytic glob): per analytic and per value of the
``by`` entity kinds, the first finding of each window is kept and the later ones are dropped
and counted on it (``explanation.triage.suppressed_repeats`` and ``count``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass

from garrison.core.findings import Finding
from garrison.triage.config import SuppressWindow
from garrison.triage.marks import triage_block


def last_seen(finding: Finding) -> int:
    """Time of the latest occurrence, even when its evidence was dropped by the cap."""
    block = finding.explanation.get("triage")
    recorded = int(block.get("last_seen", 0)) if isinstance(block, dict) else 0
    return max(finding.last_time, recorded)


@dataclass(slots=True)
class NoiseStats:
    findings_in: int = 0
    raw_findings: int = 0
    deduplicated: int = 0
    window_suppressed: int = 0
    evidences_dropped: int = 0


def _fold(head: Finding, other: Finding, cap: int, stats: NoiseStats) -> None:
    block = triage_block(head)
    dedup = block.setdefault("dedup", {"merged": 0, "evidences_dropped": 0})
    dedup["merged"] += other.count
    head.count += other.count
    head.severity_id = max(head.severity_id, other.severity_id)
    head.confidence = max(head.confidence, other.confidence)
    block["last_seen"] = max(last_seen(head), last_seen(other))
    for ev in other.evidences:
        if len(head.evidences) < cap:
            head.evidences.append(ev)
        else:
            head.evidences[-1] = ev
            dedup["evidences_dropped"] += 1
            stats.evidences_dropped += 1


def deduplicate(
    findings: Sequence[Finding], window_ms: int, cap: int, stats: NoiseStats | None = None
) -> list[Finding]:
    """Fold repeats (see module doc). Returns the kept findings in time order."""
    stats = stats if stats is not None else NoiseStats()
    heads: dict[tuple[str, frozenset[str]], Finding] = {}
    kept: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.time, f.uid)):
        key = (f.analytic_uid, frozenset(e.key() for e in f.entities))
        head = heads.get(key)
        if head is not None and f.time - last_seen(head) <= window_ms:
            _fold(head, f, max(1, cap), stats)
            stats.deduplicated += 1
            continue
        if len(f.evidences) > cap:
            triage_block(f)["last_seen"] = last_seen(f)
            f.evidences = [*f.evidences[: max(0, cap - 1)], f.evidences[-1]]
        heads[key] = f
        kept.append(f)
    return kept


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern.lower()))


def suppress_windows(
    findings: Sequence[Finding], windows: Sequence[SuppressWindow], stats: NoiseStats
) -> list[Finding]:
    """Apply suppression windows; the first rule whose analytic glob matches applies."""
    if not windows:
        return list(findings)
    compiled = [(_compile(w.analytic), w) for w in windows]
    open_windows: dict[tuple[int, str, tuple[str, ...]], tuple[int, Finding]] = {}
    kept: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.time, f.uid)):
        rule_no = next(
            (
                i
                for i, (rx, _) in enumerate(compiled)
                if rx.match(f.analytic_uid.lower()) or rx.match(f.analytic_name.lower())
            ),
            None,
        )
        if rule_no is None:
            kept.append(f)
            continue
        window = compiled[rule_no][1]
        by = tuple(sorted(e.key() for e in f.entities if e.kind in window.by))
        key = (rule_no, f.analytic_uid, by)
        current = open_windows.get(key)
        if current is not None and f.time - current[0] <= window.window_ms:
            first = current[1]
            block = triage_block(first)
            block["suppressed_repeats"] = int(block.get("suppressed_repeats", 0)) + f.count
            block["suppression_window_ms"] = window.window_ms
            block["last_seen"] = max(last_seen(first), last_seen(f))
            first.count += f.count
            stats.window_suppressed += 1
            continue
        open_windows[key] = (f.time, f)
        kept.append(f)
    return kept
