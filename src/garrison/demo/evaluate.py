"""Score a hunt's output against the demo's labels.

A finding *hits* a stage when one of its evidences (``source_path`` + ``record_id``) is a
labelled record of that stage; a finding that hits no labelled record is a false positive.
A stage is detected when at least one finding hits it. The detection time of a stage is the
earliest time of a hitting finding, but never earlier than the stage's start (a beacon
finding that starts in the C2 stage may also carry a later stage's records): in a replay of
logs this says how far into the stage the first detected event lies, not how long an alert
took to reach an analyst.

Incident-level recall: for every entity the labels list (users, hosts, addresses, domains
the attacker used or took over), is it named by any incident, and in which risk band.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from garrison.core.entities import EntityKind, normalize_entity
from garrison.core.errors import InputError
from garrison.core.timeutil import iso
from garrison.demo.labels import Labels, load_labels

_KINDS: dict[str, EntityKind] = {"users": "user", "hosts": "host", "ips": "ip", "domains": "domain"}


@dataclass(slots=True)
class StageResult:
    name: str
    title: str
    tactics: list[str]
    records: int
    start: int
    detected: bool = False
    findings: int = 0
    records_hit: int = 0
    analytics: list[str] = field(default_factory=list)
    detected_at: int | None = None
    time_to_detect_s: float | None = None


@dataclass(slots=True)
class EntityResult:
    kind: str
    value: str
    stages: list[str]
    incident: str | None = None
    incident_title: str = ""
    risk_score: int | None = None
    band: str = ""


@dataclass(slots=True)
class IncidentResult:
    uid: str
    title: str
    risk_score: int
    band: str
    findings: int
    attack_findings: int
    stages: list[str]


@dataclass(slots=True)
class DemoEvaluation:
    stages: list[StageResult]
    entities: list[EntityResult]
    incidents: list[IncidentResult]
    findings_total: int = 0
    true_positive_findings: int = 0
    false_positive_findings: int = 0
    false_positive_by_analytic: dict[str, int] = field(default_factory=dict)
    incidents_total: int = 0
    false_positive_incidents: int = 0
    malformed_lines: int = 0
    malicious_records: int = 0
    benign_records: int = 0

    @property
    def stages_detected(self) -> int:
        return sum(1 for s in self.stages if s.detected)

    @property
    def entity_recall(self) -> float:
        return (
            sum(1 for e in self.entities if e.incident) / len(self.entities)
            if self.entities
            else 0.0
        )

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["stages_detected"] = self.stages_detected
        out["stages_total"] = len(self.stages)
        out["entity_recall"] = round(self.entity_recall, 4)
        for stage in out["stages"]:
            at = stage["detected_at"]
            stage["detected_at_iso"] = iso(at) if at else None
        return out


def _jsonl(path: Path) -> tuple[list[dict[str, Any]], int]:
    if not path.is_file():
        raise InputError(f"{path} not found: run the hunt first")
    rows: list[dict[str, Any]] = []
    bad = 0
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if isinstance(row, dict):
                rows.append(row)
            else:
                bad += 1
    return rows, bad


class _PathMatcher:
    """Maps an evidence's ``source_path`` (as the hunt was given it) to a labelled file."""

    def __init__(self, labels: Labels) -> None:
        self.rels = list(labels.files)
        self.absolute = {str((labels.folder / rel).resolve()): rel for rel in self.rels}
        self.cache: dict[str, str | None] = {}

    def __call__(self, source_path: str) -> str | None:
        if source_path not in self.cache:
            self.cache[source_path] = self._match(source_path)
        return self.cache[source_path]

    def _match(self, source_path: str) -> str | None:
        norm = source_path.replace("\\", "/")
        for rel in self.rels:
            if norm == rel or norm.endswith("/" + rel):
                return rel
        try:
            return self.absolute.get(str(Path(source_path).resolve()))
        except (OSError, ValueError):
            return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _finding_hits(
    finding: dict[str, Any], index: dict[tuple[str, int], str], match: _PathMatcher
) -> dict[str, int]:
    """Stage name -> number of labelled records of that stage among the evidences."""
    hits: dict[str, int] = {}
    evidences = finding.get("evidences")
    for ev in evidences if isinstance(evidences, list) else []:
        data = ev.get("data") if isinstance(ev, dict) else None
        if not isinstance(data, dict):
            continue
        rel = match(str(data.get("source_path", "")))
        rid = _int(data.get("record_id"))
        if rel is None or rid is None:
            continue
        stage = index.get((rel, rid))
        if stage:
            hits[stage] = hits.get(stage, 0) + 1
    return hits


def _analytic(finding: dict[str, Any]) -> str:
    info = finding.get("finding_info")
    analytic = info.get("analytic") if isinstance(info, dict) else None
    if isinstance(analytic, dict):
        return str(analytic.get("name") or analytic.get("uid") or "?")
    return "?"


def _uid(row: dict[str, Any]) -> str:
    info = row.get("finding_info")
    return str(info.get("uid", "")) if isinstance(info, dict) else ""


def evaluate(results_dir: Path, labels: Labels | Path) -> DemoEvaluation:
    """Compare ``findings.jsonl`` / ``incidents.jsonl`` in ``results_dir`` with the labels."""
    if not isinstance(labels, Labels):
        labels = load_labels(labels)
    findings, bad_f = _jsonl(results_dir / "findings.jsonl")
    incidents, bad_i = _jsonl(results_dir / "incidents.jsonl")
    index = labels.index()
    match = _PathMatcher(labels)
    stages = {
        s.name: StageResult(s.name, s.title, s.tactics, s.record_count, s.start)
        for s in labels.stages
    }
    result = DemoEvaluation(
        stages=list(stages.values()),
        entities=[],
        incidents=[],
        findings_total=len(findings),
        incidents_total=len(incidents),
        malformed_lines=bad_f + bad_i,
        malicious_records=int(labels.raw.get("malicious_records", 0)),
        benign_records=int(labels.raw.get("benign_records", 0)),
    )
    tp_stages: dict[str, set[str]] = {}
    for finding in findings:
        hits = _finding_hits(finding, index, match)
        if not hits:
            name = _analytic(finding)
            result.false_positive_findings += 1
            result.false_positive_by_analytic[name] = (
                result.false_positive_by_analytic.get(name, 0) + 1
            )
            continue
        result.true_positive_findings += 1
        tp_stages[_uid(finding)] = set(hits)
        when = _int(finding.get("time"))
        for name, count in hits.items():
            _credit(stages[name], finding, count, when)
    result.false_positive_by_analytic = dict(
        sorted(result.false_positive_by_analytic.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    result.incidents, result.false_positive_incidents = _incidents(incidents, tp_stages)
    result.entities = _entities(labels, incidents)
    return result


def _credit(stage: StageResult, finding: dict[str, Any], count: int, when: int | None) -> None:
    stage.detected = True
    stage.findings += 1
    stage.records_hit += count
    name = _analytic(finding)
    if name not in stage.analytics:
        stage.analytics.append(name)
    if when is not None:
        at = max(when, stage.start)
        if stage.detected_at is None or at < stage.detected_at:
            stage.detected_at = at
            stage.time_to_detect_s = round((at - stage.start) / 1000, 3)


def _incidents(
    incidents: list[dict[str, Any]], tp_stages: dict[str, set[str]]
) -> tuple[list[IncidentResult], int]:
    out: list[IncidentResult] = []
    false_positive = 0
    for inc in incidents:
        members = [
            str(m.get("uid", "")) for m in inc.get("finding_info_list") or [] if isinstance(m, dict)
        ]
        attack = [u for u in members if u in tp_stages]
        if not attack:
            false_positive += 1
            continue
        covered = sorted({s for u in attack for s in tp_stages[u]})
        out.append(
            IncidentResult(
                uid=_uid(inc),
                title=str(cast(dict[str, Any], inc.get("finding_info") or {}).get("title", "")),
                risk_score=_int(inc.get("risk_score")) or 0,
                band=str(inc.get("risk_level", "")),
                findings=len(members),
                attack_findings=len(attack),
                stages=covered,
            )
        )
    out.sort(key=lambda r: (-r.risk_score, r.uid))
    return out, false_positive


def _entities(labels: Labels, incidents: list[dict[str, Any]]) -> list[EntityResult]:
    named: list[tuple[dict[str, Any], set[tuple[str, str]]]] = []
    for inc in incidents:
        keys: set[tuple[str, str]] = set()
        for res in inc.get("resources") or []:
            if not isinstance(res, dict):
                continue
            kind = str(res.get("type", ""))
            if kind in ("user", "host", "ip", "domain"):
                ent = normalize_entity(cast(EntityKind, kind), res.get("value"))
                if ent is not None:
                    keys.add((ent.kind, ent.value))
        named.append((inc, keys))
    wanted: dict[tuple[str, str], list[str]] = {}
    for stage in labels.stages:
        for group, kind in _KINDS.items():
            for value in stage.entities.get(group, []):
                ent = normalize_entity(kind, value)
                if ent is not None:
                    wanted.setdefault((ent.kind, ent.value), []).append(stage.name)
    out: list[EntityResult] = []
    for (kind, value), stage_names in sorted(wanted.items()):
        result = EntityResult(kind, value, stage_names)
        for inc, keys in named:
            if not _names(keys, kind, value):
                continue
            score = _int(inc.get("risk_score")) or 0
            if result.risk_score is None or score > result.risk_score:
                info = cast(dict[str, Any], inc.get("finding_info") or {})
                result.incident, result.incident_title = _uid(inc), str(info.get("title", ""))
                result.risk_score, result.band = score, str(inc.get("risk_level", ""))
        out.append(result)
    return out


def _names(keys: set[tuple[str, str]], kind: str, value: str) -> bool:
    if (kind, value) in keys:
        return True
    if kind == "domain":  # a tunnel's registered domain is named by its subdomains
        return any(k == "domain" and v.endswith("." + value) for k, v in keys)
    return False
