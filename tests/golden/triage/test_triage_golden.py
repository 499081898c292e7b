"""Golden: a small, readable scenario through triage and correlation, scores and all.

``scenario.json`` holds findings (a phishing-to-exfiltration chain, an admin's noise, a lab
host on the allowlist), ``assets.yaml`` the inventory and ``intel.txt`` two indicators. The
expected incidents, their score parts, factors and stages, and every finding's score parts,
are in ``scenario.expected.json``. With ``GARRISON_REGEN_GOLDEN=1`` the expected file is
rewritten AND the test fails, so a change of scoring always shows up in review.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from garrison.core.attack import attack_of
from garrison.core.entities import Entity, normalize_entity
from garrison.core.findings import Evidence, Finding
from garrison.core.timeutil import parse_iso_ms
from garrison.correlate.service import AlertPipeline
from garrison.triage.config import load_triage_config
from garrison.triage.service import TriageService

HERE = Path(__file__).parent
EXPECTED = HERE / "scenario.expected.json"


def _findings(specs: list[dict[str, Any]]) -> list[Finding]:
    out = []
    for s in specs:
        t = parse_iso_ms(s["t"])
        entities = [
            e
            for kind in ("host", "user", "domain", "ip")
            if kind in s and (e := normalize_entity(kind, s[kind])) is not None
        ]
        out.append(
            Finding(
                analytic_uid=s["rule"],
                analytic_name=s["rule"],
                title=s["rule"].replace("-", " ").capitalize(),
                time=t,
                severity_id=s["sev"],
                confidence=s["conf"],
                evidences=[Evidence("golden.jsonl", s["id"], f"golden-{s['id']}", t)],
                attacks=[attack_of(s["tech"])],
                entities=[Entity(e.kind, e.value) for e in entities],
                analytic_type=s.get("type", "rule"),
            )
        )
    return out


def run_scenario() -> dict[str, Any]:
    scenario = json.loads((HERE / "scenario.json").read_text())
    cfg = load_triage_config(scenario["config"])
    triage = TriageService.build(cfg, None, HERE / "assets.yaml", [HERE / "intel.txt"])
    findings, incidents = AlertPipeline(cfg, triage).process(_findings(scenario["findings"]))
    return {
        "findings": [
            {
                "records": [e.record_id for e in f.evidences],
                "count": f.count,
                "risk_score": f.risk_score,
                "risk_parts": f.risk_parts,
                "criticality": f.explanation["enrichment"]["criticality"],
                "status": f.explanation["triage"]["status"],
            }
            for f in sorted(findings, key=lambda f: f.evidences[0].record_id)
        ],
        "incidents": [
            {
                "title": i.title,
                "risk_score": i.risk_score,
                "band": i.band,
                "records": sorted(
                    r
                    for f in findings
                    if f.uid in i.finding_uids
                    for r in (e.record_id for e in f.evidences)
                ),
                "risk_parts": i.risk_parts,
                "factors": i.explanation["factors"],
                "opened_by": i.explanation.get("opened_by", {}).get("entity"),
                "stages": [s["tactic"] for s in i.stages],
                "criticality": i.enrichment["criticality"],
                "intel": sorted(x["indicator"] for x in i.enrichment.get("intel", [])),
                "description": i.description,
            }
            for i in incidents
        ],
    }


def test_golden_scenario() -> None:
    got = run_scenario()
    if os.environ.get("GARRISON_REGEN_GOLDEN"):
        EXPECTED.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n")
        raise AssertionError("golden file regenerated: review and commit it")
    assert got == json.loads(EXPECTED.read_text())
    for inc in got["incidents"]:
        assert sum(inc["risk_parts"].values()) == inc["risk_score"]
        assert sum(inc["factors"].values()) == inc["risk_score"]
    for f in got["findings"]:
        assert sum(f["risk_parts"].values()) == f["risk_score"]
