"""Ground truth for the generated data: ``DIR/data/labels.json``.

For each attack stage: its ATT&CK tactics and techniques, its time range, the entities it
involved, and the exact position (file relative to ``DIR/data``, 1-based line number) of
every record it produced. Everything else in the files is benign, and counted as such.
Labels are derived from what the writers actually wrote, never from the plan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.core.attack import attack_of
from garrison.core.errors import InputError
from garrison.core.timeutil import iso
from garrison.demo.recorder import SINKS
from garrison.demo.scenario import STAGES, Entities
from garrison.demo.writers import Positions

LABELS_VERSION = 1
FORMATS = {
    "auth": "syslog auth.log (RFC 3339 timestamps); position = line number",
    "conn": "Zeek conn.log TSV; position = line number counting the 8 header lines",
    "dns": "Zeek dns.log TSV; position = line number counting the 8 header lines",
    "win": "Windows events as JSON lines (OTRF-like flat objects); position = line number",
}


@dataclass(slots=True)
class StageLabel:
    name: str
    title: str
    tactics: list[str]
    techniques: list[str]
    start: int
    end: int
    entities: dict[str, list[str]]
    #: file (relative to the labels' folder) -> sorted line numbers
    records: dict[str, list[int]] = field(default_factory=dict)

    @property
    def record_count(self) -> int:
        return sum(len(v) for v in self.records.values())


@dataclass(slots=True)
class Labels:
    folder: Path
    stages: list[StageLabel]
    files: dict[str, dict[str, Any]]
    raw: dict[str, Any]

    def index(self) -> dict[tuple[str, int], str]:
        """(file, line) -> stage name, for every malicious record."""
        return {
            (f, line): s.name
            for s in self.stages
            for f, lines in s.records.items()
            for line in lines
        }


def build_labels(
    positions: Positions, entities: dict[str, Entities], meta: dict[str, Any]
) -> dict[str, Any]:
    per_stage: dict[str, dict[str, list[int]]] = {s.name: {} for s in STAGES}
    times: dict[str, list[int]] = {s.name: [] for s in STAGES}
    files: dict[str, dict[str, Any]] = {}
    for sink, placed in positions.items():
        rel = SINKS[sink]
        malicious = 0
        for line, rec in placed:
            if rec.stage:
                per_stage[rec.stage].setdefault(rel, []).append(line)
                times[rec.stage].append(rec.time_us // 1000)
                malicious += 1
        files[rel] = {
            "format": FORMATS[sink],
            "records": len(placed),
            "malicious": malicious,
            "benign": len(placed) - malicious,
        }
    stages = []
    for spec in STAGES:
        stamps = times[spec.name]
        attacks = [attack_of(tech, tactic) for tech, tactic in spec.techniques]
        stages.append(
            {
                "name": spec.name,
                "title": spec.title,
                "summary": spec.summary,
                "tactics": sorted({tactic for _, tactic in spec.techniques}),
                "tactic_ids": sorted({a.tactic_uid for a in attacks if a.tactic_uid}),
                "techniques": [
                    {"id": a.technique_uid, "name": a.technique_name, "tactic": tactic}
                    for a, (_, tactic) in zip(attacks, spec.techniques, strict=True)
                ],
                "start": min(stamps) if stamps else None,
                "end": max(stamps) if stamps else None,
                "start_iso": iso(min(stamps)) if stamps else None,
                "end_iso": iso(max(stamps)) if stamps else None,
                "entities": entities[spec.name].to_json(),
                "record_count": len(stamps),
                "records": {
                    rel: sorted(lines) for rel, lines in sorted(per_stage[spec.name].items())
                },
            }
        )
    total = sum(f["records"] for f in files.values())
    bad = sum(f["malicious"] for f in files.values())
    return {
        "version": LABELS_VERSION,
        **meta,
        "files": files,
        "records_total": total,
        "malicious_records": bad,
        "benign_records": total - bad,
        "entities": _union(entities),
        "stages": stages,
    }


def _union(entities: dict[str, Entities]) -> dict[str, list[str]]:
    out: dict[str, set[str]] = {"users": set(), "hosts": set(), "ips": set(), "domains": set()}
    for ent in entities.values():
        for key, values in ent.to_json().items():
            if key in out:
                out[key].update(values)
    return {k: sorted(v) for k, v in out.items()}


def write_labels(path: Path, labels: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(labels, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_labels(path: Path) -> Labels:
    """Read labels.json (the file, or the folder holding it)."""
    if path.is_dir():
        path = path / "labels.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read labels {path}: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("version") != LABELS_VERSION:
        raise InputError(f"{path} is not a garrison demo labels file (version {LABELS_VERSION})")
    stages = [
        StageLabel(
            name=s["name"],
            title=s["title"],
            tactics=list(s["tactics"]),
            techniques=[t["id"] for t in s["techniques"]],
            start=int(s["start"] or 0),
            end=int(s["end"] or 0),
            entities=dict(s["entities"]),
            records={k: [int(x) for x in v] for k, v in s["records"].items()},
        )
        for s in raw["stages"]
    ]
    return Labels(folder=path.parent, stages=stages, files=dict(raw["files"]), raw=raw)
