"""Evaluating ``ml.beacon`` on the Stratosphere Zeek captures.

Ground truth comes from the captures themselves, never from the detector's inputs:
the per-flow ``label`` column where a capture has one (001, 008, 010), and the capture's
README where it has none (003: "malicious connections at 1337/TCP"; 005: Simda on
192.168.1.116, no flow labels, so only the host can be checked). 008 and 010 are benign
Windows machines whose ``Malicious`` flows are *inbound* attacks from the Internet -- not
C2 -- so everything the beacon detector reports there is a false positive for C2, and the
report shows which benign service it was (ESET, Microsoft, Dropbox ...).

For each capture: the findings with the label mix of the flows behind each, the rank at
which each known C2 pair and infected host appears -- in the full ranking of every scored
pair, and whether that rank is above the reporting threshold -- and flow-level recall
(share of C2 flows inside reported pairs) and precision.

Calibration: every scored pair of the ranking is a labelled record (score, C2 or not) --
C2 when it is one of the capture's known C2 pairs, not C2 in captures without C2 and, in
captures with flow- or port-level truth, for every other pair. Captures with host-level
truth only (005) give no pair labels and are left out (counted). ``calibration_report``
measures the shipped recipe (``detect.ml.calibration.RECIPES["beacon"]``) leave-one-capture-
out on these records, against the raw ``1 - p`` used before calibration and the base rate.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from garrison.core.findings import Finding
from garrison.detect.ml.beacon.connections import connection_of
from garrison.detect.ml.beacon.detector import BeaconConfig, BeaconDetector
from garrison.detect.ml.calibration import RECIPES, Labelled, assess, load_calibration, quality
from garrison.measure.ml_eval.zeek_raw import capture_files, read_capture_file


@dataclass(slots=True, frozen=True)
class CaptureTruth:
    """What a capture is known to contain (from labels or its README)."""

    name: str
    #: "c2": has command and control; "none": no C2 in it (benign or other attacks).
    kind: str
    infected_hosts: frozenset[str] = frozenset()
    #: C2 destination ports from the README, for captures without flow labels.
    c2_ports: frozenset[int] = frozenset()
    #: Flow labels mark C2 (001) rather than other attacks (008, 010).
    labels_are_c2: bool = False
    note: str = ""


TRUTH: dict[str, CaptureTruth] = {
    "001-zeek-scenario-malicious": CaptureTruth(
        "001",
        "c2",
        frozenset({"192.168.1.115"}),
        labels_are_c2=True,
        note="NjRAT; per-flow labels (Malicious = CC)",
    ),
    "002-zeek-scenario-port-scanning": CaptureTruth(
        "002", "none", note="Nmap scans from 172.16.1.11; no C2"
    ),
    "003-zeek-scenario-malicious": CaptureTruth(
        "003",
        "c2",
        frozenset({"10.8.0.61"}),
        c2_ports=frozenset({1337}),
        note="AndroidTester RAT; README: malicious connections at 1337/TCP",
    ),
    "005-zeek-scenario-malicious": CaptureTruth(
        "005",
        "c2",
        frozenset({"192.168.1.116"}),
        note="Simda (DGA) on 192.168.1.116; no flow labels: host-level truth only",
    ),
    "006-zeek-scenario-ssh": CaptureTruth(
        "006", "none", note="SSH honeypot, inbound attacks; no C2"
    ),
    "008-zeek-mixed": CaptureTruth(
        "008", "none", note="benign Windows host; Malicious labels = inbound attacks"
    ),
    "010-zeek-mixed": CaptureTruth(
        "010", "none", note="benign Windows host; Malicious labels = inbound attacks"
    ),
}


@dataclass(slots=True)
class CaptureResult:
    capture: str
    truth: CaptureTruth
    events: int = 0
    seconds: float = 0.0
    findings: list[dict[str, Any]] = field(default_factory=list)
    c2_pairs: dict[str, dict[str, Any]] = field(default_factory=dict)
    infected_host_rank: dict[str, dict[str, Any]] = field(default_factory=dict)
    malicious_flows: int = 0
    malicious_flows_found: int = 0
    flows_in_findings: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    #: Every scored pair: (beacon score, 1 - p, C2 label or None when unknown).
    pairs: list[tuple[float, float, int | None]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        recall = self.malicious_flows_found / self.malicious_flows if self.malicious_flows else None
        precision = (
            self.malicious_flows_found / self.flows_in_findings
            if self.flows_in_findings and self.truth.kind == "c2"
            else None
        )
        return {
            "capture": self.capture,
            "kind": self.truth.kind,
            "note": self.truth.note,
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "findings": len(self.findings),
            "top": self.findings[:10],
            "c2_pair_rank": self.c2_pairs,
            "infected_host_rank": self.infected_host_rank,
            "c2_flows": self.malicious_flows,
            "c2_flows_found": self.malicious_flows_found,
            "flow_recall": None if recall is None else round(recall, 4),
            "flow_precision": None if precision is None else round(precision, 4),
            "detector_stats": self.stats,
        }


def _pair_keys(event: Any) -> list[tuple[str, str]]:
    conn = connection_of(event)
    if conn is None:
        return []
    keys = []
    if conn.dst:
        keys.append((conn.src, conn.dst))
    if conn.host:
        keys.append((conn.src, conn.host))
    return keys


def _is_c2(truth: CaptureTruth, label: str, port: int | None, src: str) -> bool:
    if truth.labels_are_c2:
        return label == "Malicious"
    if truth.c2_ports:
        return port in truth.c2_ports and src in truth.infected_hosts
    return False


def _finding_pair(finding: Finding) -> tuple[str, str]:
    pair = finding.explanation.get("pair", {})
    return str(pair.get("source", "")), str(pair.get("destination", ""))


def evaluate_capture(folder: Path, config: BeaconConfig | None = None) -> CaptureResult:
    truth = TRUTH.get(folder.name, CaptureTruth(folder.name, "none", note="unknown capture"))
    result = CaptureResult(folder.name, truth)
    config = config or BeaconConfig()
    # What is reported, and a copy with no threshold that ranks every scored pair, so a
    # miss still shows how far down it sits.
    detector = BeaconDetector(config)
    ranking = BeaconDetector(replace(config, threshold=0.0, max_p_value=1.0, max_findings=10**9))
    labels_by_pair: dict[tuple[str, str], Counter[str]] = {}
    c2_flows_by_pair: Counter[tuple[str, str]] = Counter()
    c2_pairs: set[tuple[str, str]] = set()
    started = time.perf_counter()
    for file in capture_files(folder):
        batch = []
        for item in read_capture_file(file):
            batch.append(item.event)
            result.events += 1
            if item.path != "conn":
                continue
            fields = item.event.fields
            src = str(fields.get("id.orig_h", ""))
            port = str(fields.get("id.resp_p"))
            port_num = int(port) if port.isdigit() else None
            label = item.label.label if item.label else ""
            c2 = _is_c2(truth, label, port_num, src)
            result.malicious_flows += c2
            for key in _pair_keys(item.event):
                labels_by_pair.setdefault(key, Counter())[
                    (item.label.label + (":" + item.label.detailed if item.label.detailed else ""))
                    if item.label
                    else "unlabelled"
                ] += 1
                if c2:
                    c2_flows_by_pair[key] += 1
                    c2_pairs.add(key)
        detector.observe(batch)
        ranking.observe(batch)
    findings = detector.finish()
    ranked = ranking.finish()
    result.seconds = time.perf_counter() - started
    result.stats = detector.stats()
    reported: list[tuple[str, str]] = []
    for position, finding in enumerate(findings, start=1):
        pair = _finding_pair(finding)
        reported.append(pair)
        keys = [pair] + [(pair[0], ip) for ip in finding.explanation.get("destination_ips", [])]
        mix: Counter[str] = Counter()
        for key in dict.fromkeys(keys):
            mix.update(labels_by_pair.get(key, Counter()))
        result.findings.append(
            {
                "rank": position,
                "src": pair[0],
                "dst": pair[1],
                "score": finding.explanation["sub_scores"]["score"],
                "confidence": finding.confidence,
                "interval_median_s": finding.explanation["sub_scores"]["interval_median_s"],
                "connections": finding.explanation["sub_scores"]["count"],
                "labels": dict(mix.most_common(3)),
            }
        )
    covered: set[tuple[str, str]] = set()
    for pair, finding in zip(reported, findings, strict=True):
        covered.add(pair)
        covered.update((pair[0], ip) for ip in finding.explanation.get("destination_ips", []))
    everything = [_finding_pair(f) for f in ranked]
    for key in sorted(c2_pairs):
        rank = next(
            (
                i
                for i, p in enumerate(everything, start=1)
                if p == key or key in _ips_of(ranked[i - 1], p)
            ),
            None,
        )
        score = ranked[rank - 1].explanation["sub_scores"]["score"] if rank else None
        result.c2_pairs[f"{key[0]}->{key[1]} ({c2_flows_by_pair[key]} flows)"] = {
            "rank": rank,
            "of": len(ranked),
            "score": score,
            "reported": key in covered,
        }
    result.pairs = [_pair_record(truth, f, c2_pairs) for f in ranked]
    result.malicious_flows_found = sum(n for k, n in c2_flows_by_pair.items() if k in covered)
    result.flows_in_findings = sum(sum(labels_by_pair.get(k, Counter()).values()) for k in covered)
    for host in sorted(truth.infected_hosts):
        host_rank: int | None = next(
            (i for i, p in enumerate(everything, start=1) if p[0] == host), None
        )
        result.infected_host_rank[host] = {
            "rank": host_rank,
            "of": len(ranked),
            "reported": any(p[0] == host for p in reported),
        }
    return result


def _pair_record(
    truth: CaptureTruth, finding: Finding, c2_pairs: set[tuple[str, str]]
) -> tuple[float, float, int | None]:
    pair = _finding_pair(finding)
    keys = {pair} | _ips_of(finding, pair)
    label: int | None
    if truth.kind == "none":
        label = 0
    elif truth.labels_are_c2 or truth.c2_ports:
        label = int(bool(keys & c2_pairs))
    else:  # host-level truth only: which of the infected host's pairs are C2 is unknown
        label = None if pair[0] in truth.infected_hosts else 0
    score = float(finding.explanation["sub_scores"]["score"])
    return score, float(finding.explanation["tail_confidence"]), label


def labelled_records(results: list[CaptureResult]) -> list[Labelled]:
    """The labelled scored pairs of every capture (unknown ones left out)."""
    return [
        Labelled(r.capture, score, label)
        for r in results
        for score, _, label in r.pairs
        if label is not None
    ]


def calibration_report(results: list[CaptureResult]) -> dict[str, Any]:
    """Leave-one-capture-out quality of the calibration recipe, the raw ``1 - p`` read as
    a probability for comparison, and which calibration the detector ships."""
    recipe = RECIPES["beacon"]
    records = labelled_records(results)
    labels = [r.label for r in records]
    tails = [t for r in results for _, t, label in r.pairs if label is not None]
    shipped, note = load_calibration("beacon")
    positives = sum(labels)
    return {
        "recipe": recipe.describe(),
        "unit": "scored (source, destination) pair",
        "excluded_unknown": sum(1 for r in results for *_, label in r.pairs if label is None),
        **assess(records, recipe, "beacon"),
        "raw_tail_confidence_as_probability": quality(tails, labels),
        "shipped": shipped.summary() if shipped else note,
        "warning": (
            f"only {positives} C2 pairs among {len(records)} labelled pairs: the calibrated "
            "probabilities are rough, and each held-out capture's positives are predicted "
            "from a fit that saw at most a couple of others"
        ),
    }


def _ips_of(finding: Finding, pair: tuple[str, str]) -> set[tuple[str, str]]:
    return {(pair[0], ip) for ip in finding.explanation.get("destination_ips", [])}


def evaluate(corpus: Path, config: BeaconConfig | None = None) -> dict[str, Any]:
    root = corpus / "zeek-stratosphere"
    results = [
        evaluate_capture(folder, config)
        for folder in sorted(root.iterdir())
        if folder.is_dir() and folder.name in TRUTH
    ]
    c2 = [r for r in results if r.truth.kind == "c2"]
    none = [r for r in results if r.truth.kind == "none"]
    return {
        "captures": [r.as_dict() for r in results],
        "calibration": calibration_report(results),
        "summary": {
            "c2_captures": len(c2),
            "c2_hosts_at_rank_1": sum(
                1
                for r in c2
                for h in r.infected_host_rank.values()
                if h["rank"] == 1 and h["reported"]
            ),
            "c2_hosts_reported": sum(
                1 for r in c2 for h in r.infected_host_rank.values() if h["reported"]
            ),
            "c2_pairs_reported": sum(1 for r in c2 for p in r.c2_pairs.values() if p["reported"]),
            "c2_pairs": sum(len(r.c2_pairs) for r in c2),
            "c2_hosts": sum(len(r.infected_host_rank) for r in c2),
            "findings_on_captures_without_c2": {r.capture: len(r.findings) for r in none},
            "events": sum(r.events for r in results),
            "seconds": round(sum(r.seconds for r in results), 3),
        },
        "config": {"threshold": (config or BeaconConfig()).threshold},
    }
