"""Triage + correlation for a hunt: findings in, scored findings and ranked incidents out.

``AlertPipeline.process`` is what the hunt calls after detection:

1. triage (``TriageService``): fold repeats, enrich, verdicts, exceptions/allowlists, score;
2. group active findings by shared entities in time (``grouping``), honouring the incident
   an analyst pinned a finding to (merge/split win over a re-run);
3. per group, run risk-based alerting: a group becomes an incident only when one of its
   entities' decayed risk crosses the threshold (or an analyst pinned it); the rest stay
   findings, searchable but not in the analyst's queue;
4. attach stored status and verdict, the open incident each continues, and similar past
   incidents (usearch over hashed incident features);
5. persist findings and incidents in the SQLite state, the embeddings in the index.

The run's output stays a function of its own findings: ``incidents.jsonl`` lists only
findings of this run, except for incidents an analyst merged (which keep their members).
"""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.core.config import GarrisonConfig
from garrison.core.findings import Finding
from garrison.core.gctune import gc_paused
from garrison.core.incidents import Incident
from garrison.correlate.embed import embed
from garrison.correlate.grouping import group_findings
from garrison.correlate.incident import build_incident
from garrison.correlate.similar import SimilarIndex
from garrison.correlate.store import IncidentStore
from garrison.store.state import StateDB
from garrison.triage.config import TriageConfig, load_triage_config
from garrison.triage.marks import triage_block
from garrison.triage.risk import first_crossing
from garrison.triage.service import TriageService, active
from garrison.triage.store import FindingStore

INDEX_FILE = "incidents.usearch"


@dataclass(slots=True)
class CorrelationStats:
    findings_in: int = 0
    raw_findings: int = 0
    active_findings: int = 0
    groups: int = 0
    incidents: int = 0
    below_threshold_groups: int = 0
    below_threshold_findings: int = 0
    incident_sizes: list[int] = field(default_factory=list)
    hubs: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        sizes = sorted(self.incident_sizes)
        return {
            "findings_in": self.findings_in,
            "raw_findings": self.raw_findings,
            "active_findings": self.active_findings,
            "groups": self.groups,
            "incidents": self.incidents,
            "below_threshold_groups": self.below_threshold_groups,
            "below_threshold_findings": self.below_threshold_findings,
            "reduction_ratio": round(self.raw_findings / self.incidents, 2)
            if self.incidents
            else None,
            "incident_size_max": sizes[-1] if sizes else 0,
            "incident_size_median": statistics.median(sizes) if sizes else 0,
            "hubs": dict(list(self.hubs.items())[:20]),
        }


class AlertPipeline:
    def __init__(
        self,
        cfg: TriageConfig,
        triage: TriageService,
        state: StateDB | None = None,
        index_path: Path | None = None,
    ) -> None:
        self.cfg = cfg
        self.triage = triage
        self.findings_store = triage.store
        self.incidents = IncidentStore(state) if state is not None else None
        self.index: SimilarIndex | None = None
        if self.incidents is not None:
            self.index = SimilarIndex(index_path)
            stored = self.incidents.embeddings()
            self.index.load(stored, len(stored))
        self.stats = CorrelationStats()

    @classmethod
    def build(
        cls,
        config: GarrisonConfig,
        state: StateDB | None,
        assets: Path | None = None,
        intel_files: Sequence[Path] = (),
    ) -> AlertPipeline:
        """From ``garrison.toml`` ([triage], [correlate]) and the hunt's --assets / --intel."""
        cfg = load_triage_config(config.raw, config.path)
        store = FindingStore(state) if state is not None else None
        triage = TriageService.build(cfg, store, assets, intel_files)
        index_path = None
        if state is not None and state.path != ":memory:":
            index_path = Path(state.path).parent / INDEX_FILE
        return cls(cfg, triage, state, index_path)

    # -- the hunt step ----------------------------------------------------------------------
    def process(self, findings: Sequence[Finding]) -> tuple[list[Finding], list[Incident]]:
        with gc_paused():
            kept = self.triage.process(findings)
            incidents = self.correlate(kept)
        self.persist(kept, incidents)
        if self.findings_store is not None and self.triage.all_rules():
            self.triage.reapply_stored()
        kept.sort(key=lambda f: (-f.risk_score, f.time))
        return kept, incidents

    def _groups(self, live: list[Finding]) -> list[tuple[str, list[Finding], bool]]:
        grouping = group_findings(live, self.cfg.correlate)
        self.stats.hubs.update({e.key(): why for e, why in grouping.hubs.items()})
        pins = self.incidents.pinned_assignments(f.uid for f in live) if self.incidents else {}
        pinned: dict[str, list[Finding]] = defaultdict(list)
        out: list[tuple[str, list[Finding], bool]] = []
        for idxs in grouping.groups:
            rest: list[Finding] = []
            for i in idxs:
                f = live[i]
                (pinned[pins[f.uid]] if f.uid in pins else rest).append(f)
            if rest:
                out.append(("", rest, False))
        for uid, members in pinned.items():
            out.append((uid, self._with_stored_members(uid, members), True))
        return out

    def _with_stored_members(self, uid: str, members: list[Finding]) -> list[Finding]:
        if self.incidents is None or self.findings_store is None:
            return members
        have = {f.uid for f in members}
        missing = [u for u in self.incidents.members(uid) if u not in have]
        return members + active(self.findings_store.load(missing))

    def correlate(self, findings: Sequence[Finding]) -> list[Incident]:
        """Incidents over triaged findings, highest risk first (also fills ``stats``)."""
        with gc_paused():
            return self._correlate(findings)

    def _correlate(self, findings: Sequence[Finding]) -> list[Incident]:
        stats = self.stats
        live = active(findings)
        stats.findings_in += len(findings)
        stats.raw_findings += sum(f.count for f in findings)
        stats.active_findings += len(live)
        rcfg = self.cfg.risk
        incidents: list[Incident] = []
        for uid, members, pinned in self._groups(live):
            stats.groups += 1
            opened = first_crossing(members, rcfg)
            if opened is None and not pinned:
                stats.below_threshold_groups += 1
                stats.below_threshold_findings += len(members)
                for f in members:
                    triage_block(f)["incident"] = None
                continue
            inc = build_incident(members, rcfg, uid=uid, opened=opened)
            for f in members:
                triage_block(f)["incident"] = inc.uid
            incidents.append(inc)
        stats.incidents += len(incidents)
        stats.incident_sizes.extend(len(i.finding_uids) for i in incidents)
        self._attach_history(incidents)
        incidents.sort(key=lambda inc: (-inc.risk_score, inc.first_time, inc.uid))
        return incidents

    def _attach_history(self, incidents: list[Incident]) -> None:
        if self.incidents is None:
            return
        known = self.incidents.stored_status(i.uid for i in incidents)
        hubs = set(self.stats.hubs)
        for inc in incidents:
            if inc.uid in known:
                inc.status, inc.verdict = known[inc.uid]
            continues = self.incidents.continued(inc, self.cfg.correlate.window_ms, hubs)
            if continues:
                inc.explanation["continues"] = continues
        self._attach_similar(incidents)

    def _attach_similar(self, incidents: list[Incident]) -> None:
        if self.index is None or self.incidents is None or self.cfg.correlate.similar_k <= 0:
            return
        exclude = set(self.incidents.ids(i.uid for i in incidents).values())
        for inc in incidents:
            hits = self.index.search(embed(inc), self.cfg.correlate.similar_k, exclude)
            rows = self.incidents.by_id(k for k, _ in hits)
            inc.similar = [
                {
                    "uid": rows[k]["uid"],
                    "title": rows[k]["title"],
                    "similarity": sim,
                    "risk_score": rows[k]["risk_score"],
                    "status": rows[k]["status"],
                    "verdict": rows[k]["verdict"],
                }
                for k, sim in hits
                if k in rows
            ]

    def persist(self, findings: Sequence[Finding], incidents: Sequence[Incident]) -> None:
        run_id = uuid.uuid4().hex[:16]
        if self.findings_store is not None:
            self.findings_store.save(findings, run_id)
        if self.incidents is None or self.index is None:
            return
        vectors = {inc.uid: embed(inc) for inc in incidents}
        ids = self.incidents.save(incidents, run_id, vectors)
        for uid, key in ids.items():
            self.index.upsert(key, vectors[uid])
        self.index.save()
