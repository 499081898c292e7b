"""MISP event exports (JSON) -> indicators.

Accepts ``{"Event": {...}}``, a list of those, ``{"response": [...]}`` (the REST search
form) and a bare event object; a MISP *feed* folder (``manifest.json`` + ``<uuid>.json``)
is walked by the loader, each event file coming here.

Attributes (the event's own and those inside its ``Object`` entries) of type ``ip-src``,
``ip-dst`` (and ``|port``), ``domain``, ``hostname`` (and ``|port``), ``domain|ip`` (both
halves), ``url``, ``md5`` / ``sha1`` / ``sha256`` / ``sha512`` (and ``filename|<hash>``),
``email-src`` / ``email`` / ``email-reply-to``. Only ``to_ids`` attributes detect; the
others are kept as context (they never make a finding). Deleted attributes and objects
are dropped. Tags (event's and attribute's, and galaxy clusters): ``tlp:*`` is kept,
``misp-galaxy:mitre-attack-pattern="... - T1566.001"`` gives ATT&CK, threat-actor and
malware galaxies name what the indicator relates to. The event's ``threat_level_id``
(1 high .. 4 undefined) feeds the finding's severity. MISP states no confidence: the
findings say the default was used.
"""

from __future__ import annotations

import re
from typing import Any

from garrison.core.errors import RecordError
from garrison.core.timeutil import epoch_to_ms, iso
from garrison.detect.intel.model import Indicator, IntelSet, Related, reason_of
from garrison.detect.intel.values import canonical

#: MISP attribute type -> (kind, index of the part of a ``a|b`` value) pairs.
_TYPES: dict[str, tuple[tuple[str, int], ...]] = {
    "ip-src": (("ip", 0),),
    "ip-dst": (("ip", 0),),
    "ip-src|port": (("ip", 0),),
    "ip-dst|port": (("ip", 0),),
    "domain": (("domain", 0),),
    "hostname": (("domain", 0),),
    "hostname|port": (("domain", 0),),
    "domain|ip": (("domain", 0), ("ip", 1)),
    "url": (("url", 0),),
    "md5": (("hash", 0),),
    "sha1": (("hash", 0),),
    "sha256": (("hash", 0),),
    "sha512": (("hash", 0),),
    "filename|md5": (("hash", 1),),
    "filename|sha1": (("hash", 1),),
    "filename|sha256": (("hash", 1),),
    "filename|sha512": (("hash", 1),),
    "email-src": (("email", 0),),
    "email": (("email", 0),),
    "email-reply-to": (("email", 0),),
}
_HASH_LENGTH = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
_TECHNIQUE = re.compile(r"\bT\d{4}(?:\.\d{3})?\b")
_GALAXY = re.compile(r'^misp-galaxy:([a-z0-9_-]+)="(.*)"$', re.IGNORECASE)
_GALAXY_KIND = {
    "threat-actor": "threat-actor",
    "mitre-intrusion-set": "intrusion-set",
    "microsoft-activity-group": "threat-actor",
    "mitre-attack-pattern": "attack-pattern",
    "mitre-enterprise-attack-attack-pattern": "attack-pattern",
    "malpedia": "malware",
    "mitre-malware": "malware",
    "ransomware": "malware",
    "banker": "malware",
    "stealer": "malware",
    "rat": "malware",
    "botnet": "malware",
    "backdoor": "malware",
    "mitre-tool": "tool",
    "tool": "tool",
}
_MAX_ITEMS = 1_000_000


def misp_events(data: Any) -> list[Any]:
    """The event objects of any accepted export shape."""
    if isinstance(data, dict):
        if isinstance(data.get("response"), list):
            return [_unwrap(x) for x in data["response"]]
        if "Event" in data:
            return [_unwrap(data)]
        return [data] if "Attribute" in data or "Object" in data else []
    if isinstance(data, list):
        return [_unwrap(x) for x in data]
    return []


def _unwrap(item: Any) -> Any:
    return item.get("Event") if isinstance(item, dict) and "Event" in item else item


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return value is True or (isinstance(value, int) and value == 1)


def _list(value: Any) -> list[Any]:
    return value[:_MAX_ITEMS] if isinstance(value, list) else []


def _tag_names(obj: dict[str, Any]) -> list[str]:
    names = [t.get("name") for t in _list(obj.get("Tag")) if isinstance(t, dict)]
    for galaxy in _list(obj.get("Galaxy")):
        if not isinstance(galaxy, dict):
            continue
        gtype = str(galaxy.get("type") or "")
        for cluster in _list(galaxy.get("GalaxyCluster")):
            if isinstance(cluster, dict) and isinstance(cluster.get("value"), str):
                names.append(f'misp-galaxy:{gtype}="{cluster["value"]}"')
    return [n[:300] for n in names if isinstance(n, str) and n]


class _Tags:
    """What a set of MISP tags says: labels, TLP, ATT&CK techniques, related names."""

    def __init__(self, names: list[str]) -> None:
        self.labels: list[str] = []
        self.tlp = ""
        self.attacks: list[str] = []
        self.related: list[Related] = []
        for name in names:
            low = name.lower()
            if low.startswith("tlp:"):
                self.tlp = self.tlp or low[4:].strip()[:20]
                continue
            self.labels.append(name[:100])
            galaxy = _GALAXY.match(name)
            if galaxy is None:
                continue
            kind = _GALAXY_KIND.get(galaxy.group(1).lower())
            techniques = tuple(_TECHNIQUE.findall(galaxy.group(2)))
            if kind == "attack-pattern" or techniques:
                self.attacks.extend(techniques)
            if kind is not None:
                self.related.append(Related(kind, galaxy.group(2)[:200], techniques))


def read_misp(data: Any, source: str, out: IntelSet) -> int:
    """Add the usable attributes of every event in ``data``; returns how many were added."""
    added = 0
    for i, event in enumerate(misp_events(data)):
        if not isinstance(event, dict):
            out.report.reject("misp: event is not an object", f"{source} event {i}")
            continue
        added += _event(event, source, out)
    return added


def _event(event: dict[str, Any], source: str, out: IntelSet) -> int:
    tags = _tag_names(event)
    try:
        level = int(event.get("threat_level_id") or 0)
    except (TypeError, ValueError):
        level = 0
    info = {
        "name": str(event.get("info") or "")[:200],
        "created": str(event.get("date") or "")[:40],
        "threat_level": level if 1 <= level <= 4 else 0,
    }
    uuid = str(event.get("uuid") or event.get("id") or "")[:64]
    attributes: list[tuple[Any, list[str]]] = [(a, []) for a in _list(event.get("Attribute"))]
    for obj in _list(event.get("Object")):
        if not isinstance(obj, dict):
            out.report.reject("misp: object is not an object", f"{source} event {uuid}")
            continue
        if _truthy(obj.get("deleted")):
            out.report.reject("misp: deleted object", f"{source} event {uuid}")
            continue
        attributes += [(a, _tag_names(obj)) for a in _list(obj.get("Attribute"))]
    added = 0
    for attr, extra in attributes:
        where = f"{source} event {uuid}"
        if not isinstance(attr, dict):
            out.report.reject("misp: attribute is not an object", where)
            continue
        where = f"{where} attribute {str(attr.get('uuid') or attr.get('id') or '?')[:64]}"
        try:
            added += _attribute(attr, tags + extra, info, source, out, where)
        except (RecordError, ValueError, TypeError) as exc:
            out.report.reject(f"misp: {reason_of(exc)}", f"{where}: {exc}")
    return added


def _attribute(
    attr: dict[str, Any],
    inherited: list[str],
    info: dict[str, Any],
    source: str,
    out: IntelSet,
    where: str,
) -> int:
    if _truthy(attr.get("deleted")):
        out.report.reject("misp: deleted attribute", where)
        return 0
    mtype = str(attr.get("type") or "")[:40]
    parts_of = _TYPES.get(mtype)
    if parts_of is None:
        out.report.reject("misp: attribute type not matched", f"{where}: {mtype}")
        return 0
    value = attr.get("value")
    if not isinstance(value, str):
        raise ValueError("value is not text")
    parts = value.split("|")
    tags = _Tags(inherited + _tag_names(attr))
    modified = ""
    if attr.get("timestamp") not in (None, ""):
        modified = iso(epoch_to_ms(attr["timestamp"]))
    count = 0
    for kind, index in parts_of:
        if index >= len(parts):
            raise ValueError(f"composite value without its part {index + 1}")
        canon = canonical(kind, parts[index])
        algo = mtype.rsplit("|", 1)[-1]
        if kind == "hash" and len(canon) != _HASH_LENGTH.get(algo, len(canon)):
            raise ValueError(f"{algo} value of the wrong length")
        out.add(
            Indicator(
                kind=kind,
                value=canon,
                source=source,
                ref=str(attr.get("uuid") or attr.get("id") or "")[:64],
                labels=tuple(dict.fromkeys(tags.labels))[:30],
                attacks=tuple(dict.fromkeys(tags.attacks)),
                related=tuple(dict.fromkeys(tags.related))[:20],
                created=info["created"],
                modified=modified,
                name=info["name"],
                description=str(attr.get("comment") or "")[:500],
                tlp=tags.tlp,
                threat_level=info["threat_level"],
                detect=_truthy(attr.get("to_ids")),
                feed_type=f"misp:{mtype}",
            )
        )
        count += 1
    return count
