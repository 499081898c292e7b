"""Evaluating ``ml.ueba``: OpenSSH brute force, LANL red team over generated background,
and the Mordor captures (cold, and over a generated baseline of their domain).

Scoring rules, the same for every set:

* The detector runs with ``max_evidence`` raised so that every event behind a finding is
  in its evidence list; a finding is a true positive when at least one of those events is
  an attack event, a false positive otherwise.
* Recall is given per kind of attack entity (accounts, sources, attack events covered),
  and false positives per 10,000 benign events.
* OpenSSH (loghub) carries no labels. Assumption, stated: every source address with a
  ``Failed password`` line is an attacker (an Internet-facing server; the only accepted
  login, ``fztu`` from 119.137.62.142, is taken as benign). Attack events are the failed
  attempts (520 lines including ``message repeated``).
"""

from __future__ import annotations

import csv
import json
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from garrison.core.events import Event, Provenance
from garrison.core.findings import Finding
from garrison.detect.ml.ueba.authevents import FAILURE, auth_event_of
from garrison.detect.ml.ueba.common import UebaConfig
from garrison.detect.ml.ueba.detector import UebaDetector
from garrison.measure.ml_eval import auth_background as bg
from garrison.measure.ml_eval.loaders import events_from_files


@dataclass(slots=True)
class Scored:
    name: str
    events: int = 0
    attack_events: int = 0
    benign_events: int = 0
    findings: int = 0
    true_positives: int = 0
    false_positives: int = 0
    by_analytic: dict[str, dict[str, int]] = field(default_factory=dict)
    recall: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0
    examples: list[dict[str, Any]] = field(default_factory=list)
    notes: str = ""
    stats: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        fp10k = 10_000 * self.false_positives / self.benign_events if self.benign_events else None
        return {
            "set": self.name,
            "events": self.events,
            "attack_events": self.attack_events,
            "benign_events": self.benign_events,
            "findings": self.findings,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "fp_per_10k_benign": None if fp10k is None else round(fp10k, 2),
            "recall": self.recall,
            "by_analytic": self.by_analytic,
            "seconds": round(self.seconds, 2),
            "examples": self.examples,
            "notes": self.notes,
            "detector_stats": self.stats,
        }


def _run(events: Sequence[Event], config: UebaConfig) -> tuple[list[Finding], dict[str, Any]]:
    detector = UebaDetector(replace(config, max_evidence=10**9, max_findings_per_analytic=10**9))
    for start in range(0, len(events), 5000):
        detector.observe(events[start : start + 5000])
    return detector.finish(), detector.stats()


def _score(
    name: str,
    events: Sequence[Event],
    attack_uids: set[str],
    attack_entities: dict[str, set[str]],
    config: UebaConfig,
) -> Scored:
    started = time.perf_counter()
    findings, stats = _run(events, config)
    out = Scored(name, events=len(events), stats=stats)
    out.seconds = time.perf_counter() - started
    out.attack_events = len(attack_uids)
    auth = sum(1 for e in events if auth_event_of(e) is not None)
    out.benign_events = auth - len(attack_uids)
    covered: set[str] = set()
    named: dict[str, set[str]] = {k: set() for k in attack_entities}
    for f in findings:
        uids = {e.event_uid for e in f.evidences}
        tp = bool(uids & attack_uids)
        stat = out.by_analytic.setdefault(f.analytic_uid, {"tp": 0, "fp": 0})
        stat["tp" if tp else "fp"] += 1
        out.findings += 1
        if tp:
            out.true_positives += 1
            covered |= uids & attack_uids
            values = {e.value for e in f.entities}
            for kind, wanted in attack_entities.items():
                named[kind] |= values & wanted
        else:
            out.false_positives += 1
        if len(out.examples) < 12 and (tp or len(out.examples) < 6):
            out.examples.append(
                {
                    "tp": tp,
                    "analytic": f.analytic_uid,
                    "title": f.title,
                    "confidence": f.confidence,
                    "observed": f.explanation.get("observed"),
                    "baseline": f.explanation.get("baseline"),
                }
            )
    out.recall = {"attack_events": _ratio(len(covered), len(attack_uids))}
    for kind, wanted in attack_entities.items():
        out.recall[kind] = _ratio(len(named[kind]), len(wanted))
    return out


def _ratio(found: int, total: int) -> dict[str, Any]:
    return {"found": found, "total": total, "recall": round(found / total, 4) if total else None}


# -- OpenSSH ---------------------------------------------------------------------------
def evaluate_openssh(corpus: Path, config: UebaConfig) -> Scored:
    path = corpus / "auth" / "openssh-loghub" / "OpenSSH_2k.log"
    events = events_from_files([path])
    attack_uids: set[str] = set()
    sources: set[str] = set()
    for e in events:
        found = auth_event_of(e)
        if found is not None and found.outcome == FAILURE and found.src_ip:
            attack_uids.add(e.uid)
            sources.add(found.src_ip)
    out = _score("openssh-loghub", events, attack_uids, {"sources": sources}, config)
    weighted = sum(
        a.count for a in (auth_event_of(e) for e in events if e.uid in attack_uids) if a is not None
    )
    out.notes = (
        f"cold start; {weighted} failed attempts counted (incl. 'message repeated'); "
        "attack = every source with a failed password"
    )
    return out


# -- LANL ------------------------------------------------------------------------------
def _lanl_rows(corpus: Path) -> list[dict[str, str]]:
    with (corpus / "auth" / "lanl-redteam" / "redteam_processed.csv").open(
        encoding="utf-8"
    ) as handle:
        return list(csv.DictReader(handle))


def lanl_events(
    corpus: Path, users: int = 300, seed: int = 7
) -> tuple[list[Event], set[str], dict[str, set[str]]]:
    """Red-team events replayed over generated background (see ``auth_background``)."""
    rows = _lanl_rows(corpus)
    red_users = sorted({r["usr"] for r in rows})
    red_sources = sorted({r["src"] for r in rows})
    red_targets = sorted({r["dst"] for r in rows})
    names = list(red_users) + [f"B{i:04d}" for i in range(max(0, users - len(red_users)))]
    # The red-team sources are ordinary workstations of ordinary users, and the red-team
    # targets are workstations of others: nothing is new just by its name.
    owners = [n for n in names if n not in red_users]
    workstations = {owner: src for owner, src in zip(owners, red_sources, strict=False)}
    rest = [n for n in names if n not in workstations]
    workstations.update(dict(zip(rest, red_targets, strict=False)))
    days = max(int(r["tstamp"]) for r in rows) // 86_400 + 2
    spec = bg.BackgroundSpec(
        users=names,
        workstations=workstations,
        days=days,
        seed=seed,
        source_name="generated:lanl-background",
    )
    background = bg.generate(spec)
    attacks = [
        bg.replay_event(
            i + 1,
            bg.EPOCH_MS + int(r["tstamp"]) * 1000,
            r["usr"],
            r["domain"],
            r["src"],
            r["dst"],
            "lanl:redteam_processed.csv",
        )
        for i, r in enumerate(rows)
    ]
    entities = {
        "accounts": {u.lower() for u in red_users},
        "sources": {s.lower() for s in red_sources},
    }
    return bg.merge(background, attacks), {e.uid for e in attacks}, entities


def evaluate_lanl(corpus: Path, config: UebaConfig, users: int = 300) -> Scored:
    events, attack_uids, entities = lanl_events(corpus, users)
    out = _score("lanl-redteam over generated background", events, attack_uids, entities, config)
    out.notes = (
        f"{users} users, one cold-start run over the whole replay (warm-up "
        f"{config.warmup_hours:.0f} h learnt as it goes)"
    )
    return out


# -- Mordor ----------------------------------------------------------------------------
MORDOR_ATTACK = {  # capture -> (user, source ip, target host) of the lateral movement
    "lateral_movement__host__covenant_copy_smb_CreateRequest": (
        "pgustavo",
        "172.18.39.5",
        "workstation6",
    ),
    "lateral_movement__host__empire_psexec_dcerpc_tcp_svcctl": (
        "pgustavo",
        "172.18.39.5",
        "workstation6",
    ),
    "lateral_movement__host__schtask_create": ("pgustavo", "172.18.39.5", "workstation6"),
}


def mordor_events(zip_path: Path) -> list[Event]:
    """The capture's records as events with the flat fields (top-level keys) kept."""
    out: list[Event] = []
    with zipfile.ZipFile(zip_path) as archive:
        for member in archive.namelist():
            with archive.open(member) as handle:
                for number, raw in enumerate(handle, start=1):
                    line = raw.decode("utf-8", "replace").strip()
                    if not line:
                        continue
                    try:
                        data = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if isinstance(data, dict):
                        out.append(_mordor_event(zip_path, number, data))
    return out


def _mordor_event(zip_path: Path, number: int, data: dict[str, Any]) -> Event:
    from garrison.core.timeutil import parse_iso_ms

    when = data.get("@timestamp") or data.get("TimeCreated") or ""
    try:
        ms = parse_iso_ms(str(when))
    except Exception:
        ms = 0
    fields = {k: v for k, v in data.items() if not isinstance(v, (dict, list))}
    if "Computer" not in fields and "Hostname" in fields:
        fields["Computer"] = fields["Hostname"]
    prov = Provenance(str(zip_path), "mordor", number, "eval", 0)
    return Event(f"{zip_path.stem}:{number}", 0, ms, {}, fields, "", prov)


def _shire_background(end_ms: int, seed: int) -> list[Event]:
    users = [
        "pgustavo",
        "wardog",
        "nmartha",
        "jdoe",
        "asmith",
        "bwayne",
        "ckent",
        "dprince",
        "pparker",
        "tstark",
    ]
    ws = {u: f"workstation{i + 5}" for i, u in enumerate(users)}
    ips = {u: f"172.18.39.{i + 5}" for i, u in enumerate(users)}
    days = 21
    spec = bg.BackgroundSpec(
        users=users,
        workstations=ws,
        ips=ips,
        servers=["mordordc", "fileserver1", "sqlserver1"],
        domain="THESHIRE",
        days=days,
        start_ms=end_ms - (days + 1) * bg.DAY_MS,
        seed=seed,
        service_accounts=0,
        source_name="generated:shire-background",
    )
    return bg.generate(spec)


def evaluate_mordor(corpus: Path, config: UebaConfig) -> list[Scored]:
    results: list[Scored] = []
    for zip_path in sorted((corpus / "mordor").glob("*.zip")):
        capture = mordor_events(zip_path)
        auth = [e for e in capture if auth_event_of(e) is not None]
        truth = MORDOR_ATTACK.get(zip_path.stem)
        attack_uids: set[str] = set()
        entities: dict[str, set[str]] = {}
        if truth:
            user, ip, host = truth
            for e in auth:
                a = auth_event_of(e)
                if a and a.user == user and (a.src_ip == ip or a.dst_host == host):
                    attack_uids.add(e.uid)
            entities = {"accounts": {user}, "targets": {host}}
        cold = _score(f"mordor/{zip_path.stem} (cold)", auth, attack_uids, entities, config)
        cold.notes = "capture alone, empty baseline"
        results.append(cold)
        times = [e.time for e in auth if e.time > 0]
        if times:
            background = _shire_background(min(times), seed=11)
            warm = _score(
                f"mordor/{zip_path.stem} (over 21 days of generated baseline)",
                bg.merge(background, auth),
                attack_uids,
                entities,
                config,
            )
            warm.notes = (
                "baseline: THESHIRE users on their own workstations "
                "(pgustavo on workstation5, 172.18.39.5) and servers"
            )
            results.append(warm)
    return results


def evaluate(
    corpus: Path, config: UebaConfig | None = None, lanl_users: int = 300
) -> dict[str, Any]:
    config = config or UebaConfig()
    sets: list[Scored] = [
        evaluate_openssh(corpus, config),
        evaluate_lanl(corpus, config, lanl_users),
    ]
    sets.extend(evaluate_mordor(corpus, config))
    return {"sets": [s.as_dict() for s in sets]}
