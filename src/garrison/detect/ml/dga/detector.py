"""Detector ``ml.dga``: DGA-looking domains per querying host, with NXDOMAIN-burst context.

``observe`` reads the name of every DNS query (and every HTTP host / TLS SNI), scores each
registered domain once per run in vectorised batches, and keeps, per querying host, the
domains judged malicious with their first events, plus the times of NXDOMAIN answers.
``finish`` reports:

- ``ml.dga``: per host, the DGA-looking registered domains it looked up, with the model's
  calibrated probability as confidence (raised when the host also had an NXDOMAIN burst),
  the top contributing features and n-grams of each domain, and the model version. A host
  without a burst is reported for domains at or above the model's threshold (fixed at 1 %
  FPR); a host *with* a burst for domains at or above ``burst_threshold`` (default 0.5,
  "more likely generated than not"), because a burst of failed look-ups is itself strong
  evidence of a DGA at work and short pronounceable DGAs (Simda) score below the strict
  threshold one by one;
- ``ml.dga.nxdomain_burst``: a host whose NXDOMAIN answers within one window reached the
  burst size, with the share of likely-DGA names among them.

Names without a public suffix (``corp.local``, single labels), reverse lookups and
anything invalid are not scored; they are counted in ``stats()``. An allowlist of
registered domains (detector option ``allowlist``: a list, or a file with one per line)
is skipped; no list is shipped, since the corpus lists may not be redistributed.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.core.attack import attack_of
from garrison.core.entities import Entity, normalize_entity
from garrison.core.events import Event
from garrison.core.findings import (
    SEVERITY_HIGH,
    SEVERITY_LOW,
    SEVERITY_MEDIUM,
    Evidence,
    Finding,
)
from garrison.core.options import names_option, option
from garrison.detect.base import DETECTORS, Detector, DetectorContext
from garrison.detect.ml.dga.model import DgaModel, load_model
from garrison.detect.ml.domains import DnsView, ParsedDomain, named_domain, parse_domain
from garrison.detect.options import DETECTOR_OPTIONS, options_of

TECHNIQUE = "T1568.002"
TACTIC = "command-and-control"


@DETECTOR_OPTIONS.register("ml.dga")
@dataclass(slots=True, frozen=True)
class DgaOptions:
    """Detector options (``[detectors."ml.dga"]`` in garrison.toml)."""

    model: str = ""
    #: Override the model's threshold (probability); 0 keeps the model card's.
    threshold: float = option(0.0, min=0, max=1)
    #: Threshold for a host that also had an NXDOMAIN burst: in that context a name the
    #: model finds more likely generated than not (p >= 0.5) is worth reporting.
    burst_threshold: float = option(0.5, min=0, max=1)
    burst_window_s: int = option(300, min=0)
    burst_min: int = option(20, min=0)
    max_domains_per_finding: int = option(25, min=0)
    max_evidences_per_domain: int = option(3, min=0)
    #: Registered domains never reported: an array, or a file with one per line.
    allowlist: tuple[str, ...] = names_option()


@dataclass(slots=True)
class _Verdict:
    score: float
    malicious: bool
    explanation: dict[str, Any] = field(default_factory=dict)
    #: At least the burst threshold: reported for hosts with an NXDOMAIN burst.
    suspect: bool = False


@dataclass(slots=True)
class _HostDomain:
    count: int = 0
    nxdomain: int = 0
    evidences: list[Evidence] = field(default_factory=list)


@dataclass(slots=True)
class _Host:
    entity: Entity | None
    domains: dict[str, _HostDomain] = field(default_factory=dict)
    #: (time, registered domain or "", evidence) of each NXDOMAIN answer.
    nx: list[tuple[int, str, Evidence]] = field(default_factory=list)


def _evidence(event: Event, view: DnsView) -> Evidence:
    summary = [("query", view.query[:255])]
    if view.qtype:
        summary.append(("qtype", view.qtype))
    if view.rcode:
        summary.append(("rcode", view.rcode))
    if view.querier:
        summary.append(("querier", view.querier))
    return Evidence(event.source_path, event.record_id, event.uid, event.time, tuple(summary))


def _is_nxdomain(event: Event, view: DnsView) -> bool:
    if view.rcode in ("NXDOMAIN", "NXDOMAIN(3)", "3"):
        return True
    rcode_id = event.ocsf.get("rcode_id") if isinstance(event.ocsf, dict) else None
    return isinstance(rcode_id, int) and not isinstance(rcode_id, bool) and rcode_id == 3


def _querier(view: DnsView) -> tuple[str, Entity | None]:
    for kind, value in (("ip", view.querier), ("host", view.querier_host)):
        entity = normalize_entity(kind, value) if value else None  # type: ignore[arg-type]
        if entity is not None:
            return entity.key(), entity
    return "unknown", None


class DgaDetector(Detector):
    id = "ml.dga"
    name = "DGA domains (ML)"

    def __init__(self, model: DgaModel, options: DgaOptions | None = None) -> None:
        self.model = model
        self.options = options or DgaOptions()
        self.threshold = self.options.threshold or model.threshold
        self.burst_threshold = min(self.options.burst_threshold, self.threshold)
        self.allow = frozenset(self.options.allowlist)
        self.verdicts: dict[str, _Verdict] = {}
        self.hosts: dict[str, _Host] = {}
        self.counts = {
            "names_seen": 0,
            "scored": 0,
            "malicious_domains": 0,
            "suspect_domains": 0,
            "skipped_invalid": 0,
            "skipped_no_suffix": 0,
            "skipped_allowlist": 0,
            "skipped_idn": 0,
            "nxdomain": 0,
        }

    # --- observe ------------------------------------------------------------------------

    def observe(self, events: Sequence[Event]) -> list[Finding]:
        rows: list[tuple[Event, DnsView, ParsedDomain | None]] = []
        fresh: dict[str, ParsedDomain] = {}
        for event in events:
            view = named_domain(event.ocsf, event.fields)
            if view is None:
                continue
            self.counts["names_seen"] += 1
            parsed = self._usable(view.query)
            rows.append((event, view, parsed))
            if parsed is not None and parsed.registered not in self.verdicts:
                fresh.setdefault(parsed.registered, parsed)
        self._score(list(fresh.values()))
        for event, view, parsed in rows:
            self._record(event, view, parsed)
        return []

    def _usable(self, query: str) -> ParsedDomain | None:
        parsed = parse_domain(query)
        if not parsed.ok:
            self.counts["skipped_invalid"] += 1
            return None
        if not parsed.suffix or parsed.suffix.endswith("arpa"):
            self.counts["skipped_no_suffix"] += 1
            return None
        if parsed.registered in self.allow:
            self.counts["skipped_allowlist"] += 1
            return None
        if not parsed.scorable:
            self.counts["skipped_idn"] += 1
            return None
        return parsed

    def _score(self, fresh: list[ParsedDomain]) -> None:
        if not fresh:
            return
        probs, x = self.model.score([p.name for p in fresh], [p.suffix for p in fresh])
        self.counts["scored"] += len(fresh)
        flagged = [i for i, p in enumerate(probs) if p >= self.burst_threshold]
        explained = self.model.explain([fresh[i].name for i in flagged], x[flagged])
        notes = dict(zip(flagged, explained, strict=True))
        for i, parsed in enumerate(fresh):
            malicious = bool(probs[i] >= self.threshold)
            self.counts["malicious_domains"] += malicious
            self.counts["suspect_domains"] += i in notes
            self.verdicts[parsed.registered] = _Verdict(
                float(probs[i]), malicious, notes.get(i, {}), i in notes
            )

    def _record(self, event: Event, view: DnsView, parsed: ParsedDomain | None) -> None:
        nx = view.is_dns and _is_nxdomain(event, view)
        verdict = self.verdicts.get(parsed.registered) if parsed else None
        if not nx and (verdict is None or not verdict.suspect):
            return
        key, entity = _querier(view)
        host = self.hosts.get(key)
        if host is None:
            host = self.hosts[key] = _Host(entity)
        evidence = _evidence(event, view)
        if nx:
            self.counts["nxdomain"] += 1
            host.nx.append((event.time, parsed.registered if parsed else "", evidence))
        if parsed is not None and verdict is not None and verdict.suspect:
            seen = host.domains.setdefault(parsed.registered, _HostDomain())
            seen.count += 1
            seen.nxdomain += nx
            if len(seen.evidences) < self.options.max_evidences_per_domain:
                seen.evidences.append(evidence)

    # --- finish -------------------------------------------------------------------------

    def finish(self) -> list[Finding]:
        findings: list[Finding] = []
        for key in sorted(self.hosts):
            host = self.hosts[key]
            burst = self._burst(host)
            if burst is not None:
                findings.append(self._burst_finding(host, burst))
            cut = self.threshold if burst is None else self.burst_threshold
            reported = {
                d: seen for d, seen in host.domains.items() if self.verdicts[d].score >= cut
            }
            if reported:
                findings.append(self._dga_finding(host, reported, burst))
        return findings

    def _burst(self, host: _Host) -> dict[str, Any] | None:
        """The densest window of NXDOMAIN answers, if it reaches the burst size."""
        if len(host.nx) < self.options.burst_min:
            return None
        host.nx.sort(key=lambda item: item[0])
        times = [t for t, _, _ in host.nx]
        window = self.options.burst_window_s * 1000
        best, best_start = 0, 0
        for i, t in enumerate(times):
            j = bisect.bisect_right(times, t + window)
            if j - i > best:
                best, best_start = j - i, i
        if best < self.options.burst_min:
            return None
        inside = host.nx[best_start : best_start + best]
        names = {d for _, d, _ in inside if d}
        scored = [self.verdicts[d].score for d in names if d in self.verdicts]
        dga = [p for p in scored if p >= self.threshold]
        likely = [p for p in scored if p >= 0.5]
        return {
            "nxdomain_in_window": best,
            "window_s": self.options.burst_window_s,
            "start": inside[0][0],
            "end": inside[-1][0],
            "unique_domains": len(names),
            "scored_domains": len(scored),
            "dga_share": round(len(dga) / len(scored), 3) if scored else 0.0,
            "likely_dga_share": round(len(likely) / len(scored), 3) if scored else 0.0,
            "mean_dga_score": round(sum(scored) / len(scored), 3) if scored else 0.0,
            "total_nxdomain": len(host.nx),
            "evidences": [e for _, _, e in inside[:20]],
        }

    def _dga_finding(
        self, host: _Host, domains: dict[str, _HostDomain], burst: dict[str, Any] | None
    ) -> Finding:
        ranked = sorted(domains.items(), key=lambda kv: -self.verdicts[kv[0]].score)
        shown = ranked[: self.options.max_domains_per_finding]
        top = self.verdicts[shown[0][0]].score
        boost = 0.0
        if burst is not None:
            boost = 0.5 * min(1.0, burst["likely_dga_share"] + 0.25)
        confidence = 1.0 - (1.0 - top) * (1.0 - boost)
        evidences = [ev for _, seen in shown for ev in seen.evidences]
        entities = ([host.entity] if host.entity else []) + [Entity("domain", d) for d, _ in shown]
        severity = SEVERITY_HIGH if (burst or len(ranked) >= 5) else SEVERITY_MEDIUM
        who = host.entity.value if host.entity else "an unknown host"
        explanation = {
            "threshold": round(self.threshold if burst is None else self.burst_threshold, 4),
            "threshold_note": "model threshold (1 % FPR on training data)"
            if burst is None
            else "burst-context threshold: the host also had an NXDOMAIN burst",
            "domains_flagged": len(ranked),
            "above_model_threshold": sum(1 for d, _ in ranked if self.verdicts[d].malicious),
            "domains": [
                {
                    "domain": d,
                    "score": round(self.verdicts[d].score, 4),
                    "queries": seen.count,
                    "nxdomain": seen.nxdomain,
                    **self.verdicts[d].explanation,
                }
                for d, seen in shown
            ],
            "nxdomain_burst": _public(burst),
            "confidence_from": "max calibrated probability"
            + (", raised by an NXDOMAIN burst" if burst else ""),
        }
        return Finding(
            analytic_uid=self.id,
            analytic_name=self.name,
            title=f"DGA-like domains queried by {who}: "
            + ", ".join(d for d, _ in shown[:3])
            + (f" and {len(ranked) - 3} more" if len(ranked) > 3 else ""),
            time=min(ev.time for ev in evidences),
            severity_id=severity,
            confidence=round(100 * confidence),
            evidences=evidences,
            attacks=[attack_of(TECHNIQUE, TACTIC)],
            entities=entities,
            analytic_type="ml",
            description="Domain names that the DGA model scores as algorithmically generated "
            f"(calibrated probability >= {explanation['threshold']:.3f}).",
            explanation=explanation,
            model_version=self.model.version,
        )

    def _burst_finding(self, host: _Host, burst: dict[str, Any]) -> Finding:
        who = host.entity.value if host.entity else "an unknown host"
        share = burst["likely_dga_share"]
        confidence = 40 + 55 * min(1.0, share * 1.5)
        return Finding(
            analytic_uid=f"{self.id}.nxdomain_burst",
            analytic_name="NXDOMAIN burst",
            title=f"NXDOMAIN burst from {who}: {burst['nxdomain_in_window']} failed lookups "
            f"in {burst['window_s']} s",
            time=burst["start"],
            severity_id=SEVERITY_MEDIUM if share >= 0.3 else SEVERITY_LOW,
            confidence=round(confidence),
            evidences=list(burst["evidences"]),
            attacks=[attack_of(TECHNIQUE, TACTIC)],
            entities=[host.entity] if host.entity else [],
            analytic_type="ml",
            description="Many non-existent domains looked up in a short window: the pattern "
            "of malware walking a DGA list until one name resolves.",
            explanation={
                "observed": _public(burst),
                "baseline": {
                    "burst_min": self.options.burst_min,
                    "window_s": self.options.burst_window_s,
                },
            },
            model_version=self.model.version,
        )

    def stats(self) -> dict[str, Any]:
        return {
            **self.counts,
            "hosts_with_findings": sum(1 for h in self.hosts.values() if h.domains),
            "threshold": round(self.threshold, 4),
            "model_version": self.model.version,
        }


def _public(burst: dict[str, Any] | None) -> dict[str, Any] | None:
    if burst is None:
        return None
    return {k: v for k, v in burst.items() if k != "evidences"}


@DETECTORS.register("ml.dga")
def _factory(ctx: DetectorContext) -> Detector | None:
    options = options_of(ctx, DgaOptions)
    model = load_model(Path(options.model) if options.model else None, ctx.home)
    return DgaDetector(model, options)
