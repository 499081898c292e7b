"""Evaluating ``ml.egress`` on the Stratosphere Zeek captures and on the demo scenario.

Logs go through the hunt's own source, normalizer and event building
(``loaders.events_with_meta``, the loader every evaluation uses); ground truth never reaches
the detector: the Stratosphere ``label`` columns stay in the records'
``meta``, the demo's truth is its ``labels.json``.

Truth about exfiltration, per capture:

* 001 (NjRAT) -- flows labelled ``Malicious`` are the RAT's C2; an upload among them is the
  RAT sending data out (T1041): a finding whose evidence is such flows is a true positive.
* 003 (AndroidTester RAT) -- README: "malicious connections at 1337/TCP" from 10.8.0.61;
  same reading.
* 005 (Simda) -- host-level truth only (192.168.1.116 infected): a finding from it is
  counted as "infected host", neither true nor false.
* 002 (Nmap), 006 (SSH honeypot), 008 and 010 (benign Windows hosts attacked from the
  Internet, whose ``Malicious`` flows are inbound) -- no exfiltration: every finding is a
  false positive.

Each capture is evaluated with a fresh, empty baseline (the first day of a deployment: the
hardest case, no history). Figures: outbound transfers and (source, destination, day)
buckets, candidates (volume and direction), findings with the label mix of their evidence,
false positives per 1,000 outbound buckets, and how many findings each ``min_bytes`` would
give (the operating point is fixed; the sweep shows how sensitive it is).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from garrison.core.events import Event
from garrison.core.findings import Finding
from garrison.detect.ml.egress.detector import EgressConfig, EgressDetector
from garrison.measure.ml_eval.loaders import events_with_meta

CAPTURES = "zeek-stratosphere"
SWEEP_MB = (5, 10, 20, 50, 100)
#: capture folder -> (kind, note, infected host, C2 port or None, flow labels mark C2)
TRUTH: dict[str, tuple[str, str, str, int | None, bool]] = {
    "001-zeek-scenario-malicious": (
        "c2",
        "NjRAT; Malicious flows = C2",
        "192.168.1.115",
        None,
        True,
    ),
    "002-zeek-scenario-port-scanning": ("none", "Nmap scans; no exfiltration", "", None, False),
    "003-zeek-scenario-malicious": (
        "c2",
        "AndroidTester RAT; README: malicious connections at 1337/TCP",
        "10.8.0.61",
        1337,
        False,
    ),
    "005-zeek-scenario-malicious": (
        "host-only",
        "Simda on 192.168.1.116; host-level truth only",
        "192.168.1.116",
        None,
        False,
    ),
    "006-zeek-scenario-ssh": ("none", "SSH honeypot, inbound attacks", "", None, False),
    "008-zeek-mixed": ("none", "benign Windows host; Malicious = inbound", "", None, False),
    "010-zeek-mixed": ("none", "benign Windows host; Malicious = inbound", "", None, False),
}


def _conn_logs(folder: Path) -> list[Path]:
    """The capture's conn logs, the labelled copy when there is one."""
    found: dict[Path, Path] = {}
    for file in sorted(folder.rglob("*")):
        if not file.is_file() or "conn" not in file.name:
            continue
        found.setdefault(file.parent, file)
        if "label" in file.name:
            found[file.parent] = file
    return sorted(found.values())


def _run(events: list[Event], config: EgressConfig) -> tuple[list[Finding], dict[str, Any]]:
    detector = EgressDetector(config)
    for start in range(0, len(events), 5000):
        detector.observe(events[start : start + 5000])
    findings = detector.finish()
    return findings, detector.stats()


def evaluate_capture(folder: Path, config: EgressConfig | None = None) -> dict[str, Any]:
    config = config or EgressConfig()
    kind, note, infected, c2_port, labels_c2 = TRUTH.get(
        folder.name, ("none", "unknown capture", "", None, False)
    )
    events: list[Event] = []
    labels: dict[tuple[str, int], str] = {}
    started = time.perf_counter()
    for path in _conn_logs(folder):
        for event, meta in events_with_meta(path):
            events.append(event)
            found = meta.get("labels") or {}
            if found:
                labels[(event.source_path, event.record_id)] = str(found.get("label", ""))
    findings, stats = _run(events, config)
    seconds = time.perf_counter() - started
    rows = []
    verdicts: Counter[str] = Counter()
    by_record = {(e.source_path, e.record_id): e for e in events}
    for f in findings:
        mix: Counter[str] = Counter()
        malicious = 0
        for ev in f.evidences:
            label = labels.get((ev.source_path, ev.record_id), "unlabelled")
            mix[label] += 1
            port = _port(by_record.get((ev.source_path, ev.record_id)))
            if (labels_c2 and label == "Malicious") or (c2_port is not None and port == c2_port):
                malicious += 1
        src = str(f.explanation.get("observed", "")).split(" sent from ")[-1].split(" ")[0]
        if kind == "none":
            verdict = "false positive"
        elif malicious == len(f.evidences) and f.evidences:
            verdict = "true positive"
        elif kind == "host-only" and src == infected:
            verdict = "infected host"
        else:
            verdict = "false positive"
        verdicts[verdict] += 1
        rows.append(
            {
                "title": f.title,
                "verdict": verdict,
                "severity": f.severity_id,
                "confidence": f.confidence,
                "evidence_labels": dict(mix),
                "baseline": f.explanation.get("baseline"),
                "destination": f.explanation.get("destination"),
            }
        )
    buckets = int(stats.get("buckets", 0))
    fp = verdicts.get("false positive", 0)
    return {
        "capture": folder.name,
        "kind": kind,
        "note": note,
        "events": len(events),
        "seconds": round(seconds, 3),
        "outbound_transfers": stats.get("outbound_transfers", 0),
        "outbound_buckets": buckets,
        "candidates": stats.get("candidates", 0),
        "findings": len(findings),
        "verdicts": dict(verdicts),
        "false_positives_per_1000_buckets": round(1000 * fp / buckets, 3) if buckets else None,
        "rows": rows,
        "sweep_min_bytes": _sweep(events, config),
        "detector_stats": stats,
    }


def _port(event: Event | None) -> int | None:
    if event is None:
        return None
    value = event.fields.get("id.resp_p")
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _sweep(events: list[Event], config: EgressConfig) -> dict[str, int]:
    out = {}
    for mb in SWEEP_MB:
        found, _ = _run(events, replace(config, min_bytes=mb * 1_000_000))
        out[f"{mb} MB"] = len(found)
    return out


def evaluate_demo(out: Path, config: EgressConfig | None = None) -> dict[str, Any]:
    """Generate the default demo into ``out`` and score ``ml.egress`` on its conn.log."""
    from garrison.demo.service import DemoOptions, generate

    config = config or EgressConfig()
    generated = generate(DemoOptions(out=out))
    truth = generated.labels
    malicious: dict[int, str] = {}
    for stage in truth["stages"]:
        for line in stage["records"].get("logs/zeek/conn.log", []):
            malicious[int(line)] = str(stage["name"])
    path = out / "data" / "logs" / "zeek" / "conn.log"
    events = [e for e, _ in events_with_meta(path)]
    findings, stats = _run(events, config)
    rows: list[dict[str, Any]] = []
    fp = 0
    for f in findings:
        stages = Counter(malicious.get(ev.record_id, "benign") for ev in f.evidences)
        false = stages.get("benign", 0) == len(f.evidences)
        fp += false
        rows.append(
            {
                "title": f.title,
                "severity": f.severity_id,
                "confidence": f.confidence,
                "evidence_stages": dict(stages),
                "false_positive": false,
            }
        )
    exfil = {str(ip) for ip in _stage_ips(truth, "exfil-rclone")}
    found_exfil = any(any(ip in str(r["title"]) for ip in exfil) for r in rows)
    buckets = int(stats.get("buckets", 0))
    return {
        "set": "demo scenario (default options)",
        "events": len(events),
        "outbound_buckets": buckets,
        "findings": len(findings),
        "false_positives": fp,
        "exfiltration_found": found_exfil,
        "rows": rows,
        "detector_stats": stats,
    }


def _stage_ips(truth: dict[str, Any], stage: str) -> list[str]:
    for s in truth.get("stages", []):
        if s.get("name") == stage:
            return [ip for ip in s.get("entities", {}).get("ips", []) if not ip.startswith("10.")]
    return []


def evaluate(corpus: Path, demo_dir: Path | None = None) -> dict[str, Any]:
    """Every Stratosphere capture, then (when ``demo_dir`` is given) the demo."""
    config = EgressConfig()
    folder = corpus / CAPTURES
    captures = [evaluate_capture(sub, config) for sub in sorted(folder.iterdir()) if sub.is_dir()]
    benign = [c for c in captures if c["kind"] == "none"]
    fp = sum(c["verdicts"].get("false positive", 0) for c in benign)
    buckets = sum(c["outbound_buckets"] for c in benign)
    report: dict[str, Any] = {
        "config": {
            k: getattr(config, k)
            for k in ("min_bytes", "min_pcr", "max_clients", "min_ratio", "floor_bytes")
        },
        "captures": captures,
        "no_exfiltration_captures": {
            "captures": [c["capture"] for c in benign],
            "false_positives": fp,
            "outbound_buckets": buckets,
            "false_positives_per_1000_buckets": round(1000 * fp / buckets, 3) if buckets else None,
        },
    }
    if demo_dir is not None:
        report["demo"] = evaluate_demo(demo_dir, config)
    return report


def evaluate_with_demo(corpus: Path, demo: bool = True) -> dict[str, Any]:
    """``garrison eval egress``: ``evaluate``, with the demo generated in a temporary folder
    (removed afterwards) when ``demo`` is true."""
    if not demo:
        return evaluate(corpus, None)
    with tempfile.TemporaryDirectory(prefix="garrison-egress-") as tmp:
        return evaluate(corpus, Path(tmp) / "demo")


def main(corpus: str, demo_dir: str | None = None) -> None:
    """Print the evaluation as JSON (``python -m garrison.measure.ml_eval.egress_eval``)."""
    report = evaluate(Path(corpus), Path(demo_dir) if demo_dir else None)
    print(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    import sys

    main(*sys.argv[1:3])
