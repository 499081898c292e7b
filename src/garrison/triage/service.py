"""Triage of a run's findings: fold repeats, enrich, apply verdicts and rules, score.

The order matters and is deliberate:

1. deduplicate and apply suppression windows first (cheaper: later steps see fewer findings);
2. enrich with the asset inventory and intel (scoring reads only this block);
3. copy stored analyst dispositions onto re-detected findings (the analyst wins);
4. apply exceptions and allowlists, from the configuration and from the state database;
5. score, with the rules' disposition history as an advisory prior.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from garrison.core.findings import Finding
from garrison.triage.config import TriageConfig
from garrison.triage.enrich import Enricher, load_intel, load_inventory
from garrison.triage.feedback import rule_history, rule_stats
from garrison.triage.marks import is_suppressed
from garrison.triage.noise import NoiseStats, deduplicate, suppress_windows
from garrison.triage.rules import SuppressionRule, apply_rules
from garrison.triage.scoring import ScoreContext, score_findings
from garrison.triage.store import FindingStore


@dataclass(slots=True)
class TriageStats:
    noise: NoiseStats = field(default_factory=NoiseStats)
    suppressed_by_rules: int = 0
    enriched_with_asset: int = 0
    with_intel: int = 0
    inventory_size: int = 0
    intel_indicators: int = 0
    intel_problems: list[str] = field(default_factory=list)


def config_rules(cfg: TriageConfig) -> list[SuppressionRule]:
    rules = [
        SuppressionRule.from_spec(s, f"exception #{i}")
        for i, s in enumerate(cfg.noise.exceptions, 1)
    ]
    rules += [
        SuppressionRule.from_spec(s, f"allowlist (config) #{i}")
        for i, s in enumerate(cfg.noise.allowlist, 1)
    ]
    return rules


class TriageService:
    def __init__(
        self,
        cfg: TriageConfig,
        enricher: Enricher | None = None,
        store: FindingStore | None = None,
    ) -> None:
        self.cfg = cfg
        self.enricher = enricher or Enricher(change_window_ms=cfg.enrich.change_window_ms)
        self.store = store
        self.rules = config_rules(cfg)
        self.stats = TriageStats(
            inventory_size=len(self.enricher.inventory),
            intel_indicators=len(self.enricher.intel),
            intel_problems=list(self.enricher.intel.problems[:20]),
        )

    @classmethod
    def build(
        cls,
        cfg: TriageConfig,
        store: FindingStore | None,
        assets: Path | None = None,
        intel_files: Sequence[Path] = (),
    ) -> TriageService:
        """Load the inventory (bad rows raise ``InputError``) and simple intel files."""
        inventory = load_inventory(assets) if assets else None
        intel = load_intel(list(intel_files)) if intel_files else None
        enricher = Enricher(inventory, intel, cfg.enrich.change_window_ms)
        return cls(cfg, enricher, store)

    def all_rules(self) -> list[SuppressionRule]:
        stored = [e.rule for e in self.store.allow_entries()] if self.store else []
        return self.rules + stored

    def score_context(self) -> ScoreContext:
        if self.store is None:
            return ScoreContext()
        verdicts = {u: d.disposition for u, d in self.store.dispositions("finding").items()}
        if not verdicts:
            return ScoreContext()
        rows = self.store.rows(
            "WHERE uid IN (SELECT uid FROM triage_dispositions WHERE target='finding')"
        )
        return ScoreContext(rule_history=rule_history(rule_stats(rows, verdicts)))

    def process(self, findings: Sequence[Finding]) -> list[Finding]:
        """Triage a run's findings; returns the kept ones (repeats folded in), scored."""
        stats = self.stats
        stats.noise.findings_in += len(findings)
        stats.noise.raw_findings += sum(f.count for f in findings)
        kept = deduplicate(
            findings, self.cfg.noise.dedup_window_ms, self.cfg.noise.evidence_cap, stats.noise
        )
        kept = suppress_windows(kept, self.cfg.noise.suppress, stats.noise)
        for f in kept:
            block = self.enricher.enrich(f)
            stats.enriched_with_asset += bool(block.get("assets"))
            stats.with_intel += bool(block.get("intel"))
        if self.store is not None:
            self.store.apply_dispositions(kept)
        stats.suppressed_by_rules += apply_rules(kept, self.all_rules())
        score_findings(kept, self.score_context())
        return kept

    def reapply_stored(self) -> list[str]:
        """Re-evaluate stored findings against every rule (config and stored entries)."""
        return self.store.reapply(self.all_rules()) if self.store else []


def active(findings: Sequence[Finding]) -> list[Finding]:
    """Findings that take part in correlation: not suppressed and with some risk."""
    return [f for f in findings if not is_suppressed(f) and f.risk_score > 0]
