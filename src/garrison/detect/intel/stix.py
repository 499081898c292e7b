"""STIX 2.0/2.1 bundles (JSON) -> indicators.

Reads the parsed JSON itself (a bundle, a TAXII-style ``{"objects": [...]}`` envelope or a
bare list of objects) rather than through the ``stix2`` object model: a hostile or sloppy
feed must cost one counted indicator, not the file, and strict model validation refuses a
whole bundle for one bad property. Patterns go through ``stix_pattern`` (the OASIS grammar).

Per ``indicator`` object: ``revoked`` ones are dropped; ``pattern_type`` other than
``stix`` is refused; ``valid_from`` / ``valid_until`` bound the event times it matches;
``confidence`` (0-100), ``labels`` / ``indicator_types``, ``kill_chain_phases``
(``mitre-attack`` phases -> tactics) and ``external_references`` (``mitre-attack``
technique ids) are kept; ``indicates`` relationships name the malware, attack patterns
(their technique ids join the indicator's), threat actors, intrusion sets, campaigns and
tools it points to; TLP comes from its marking references.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from garrison.core.errors import RecordError
from garrison.core.timeutil import parse_iso_ms
from garrison.detect.intel.model import Indicator, IntelSet, Related, reason_of
from garrison.detect.intel.stix_pattern import Unsupported, compile_pattern

_TECHNIQUE = re.compile(r"^T\d{4}(\.\d{3})?$")
_RELATED_TYPES = frozenset(
    {"malware", "attack-pattern", "threat-actor", "intrusion-set", "campaign", "tool"}
)
#: The TLP marking definitions the STIX 2.1 specification fixes by id.
_TLP_IDS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "white",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}
_MAX_TEXT = 500


def stix_objects(data: Any) -> list[Any]:
    if isinstance(data, dict):
        objects = data.get("objects")
        return objects if isinstance(objects, list) else []
    return data if isinstance(data, list) else []


def _text(value: Any) -> str:
    return value[:_MAX_TEXT] if isinstance(value, str) else ""


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v[:100] for v in value if isinstance(v, str) and v)[:20]


def _techniques(obj: dict[str, Any]) -> tuple[str, ...]:
    refs = obj.get("external_references")
    out: list[str] = []
    for ref in refs if isinstance(refs, list) else []:
        if not isinstance(ref, dict) or ref.get("source_name") not in (
            "mitre-attack",
            "mitre-mobile-attack",
            "mitre-ics-attack",
        ):
            continue
        ext = ref.get("external_id")
        if isinstance(ext, str) and _TECHNIQUE.match(ext.strip().upper()):
            out.append(ext.strip().upper())
    return tuple(dict.fromkeys(out))


def _tactics(obj: dict[str, Any]) -> tuple[str, ...]:
    phases = obj.get("kill_chain_phases")
    out: list[str] = []
    for phase in phases if isinstance(phases, list) else []:
        if (
            isinstance(phase, dict)
            and phase.get("kill_chain_name") in ("mitre-attack", "mitre-pre-attack")
            and isinstance(phase.get("phase_name"), str)
        ):
            out.append(phase["phase_name"].strip().lower()[:50])
    return tuple(dict.fromkeys(out))


def _time(obj: dict[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{key} is not a timestamp")
    return parse_iso_ms(value)


class _Graph:
    """What the bundle's other objects say about its indicators."""

    def __init__(self, objects: list[Any]) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        self.indicates: dict[str, list[str]] = {}
        self.tlp: dict[str, str] = dict(_TLP_IDS)
        for obj in objects:
            if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
                continue
            kind = obj.get("type")
            if kind in _RELATED_TYPES:
                self.by_id[obj["id"]] = obj
            elif kind == "relationship" and obj.get("relationship_type") == "indicates":
                src, dst = obj.get("source_ref"), obj.get("target_ref")
                if isinstance(src, str) and isinstance(dst, str) and not obj.get("revoked"):
                    self.indicates.setdefault(src, []).append(dst)
            elif kind == "marking-definition":
                definition = obj.get("definition")
                if isinstance(definition, dict) and isinstance(definition.get("tlp"), str):
                    self.tlp[obj["id"]] = definition["tlp"].lower()[:20]
                elif isinstance(obj.get("name"), str) and obj["name"].lower().startswith("tlp:"):
                    self.tlp[obj["id"]] = obj["name"][4:].lower()[:20]

    def related(self, indicator_id: str) -> tuple[Related, ...]:
        out: list[Related] = []
        for target in self.indicates.get(indicator_id, [])[:20]:
            obj = self.by_id.get(target)
            if obj is None or obj.get("revoked"):
                continue
            name = _text(obj.get("name")) or target
            out.append(Related(str(obj["type"]), name[:200], _techniques(obj)))
        return tuple(out)

    def marking(self, obj: dict[str, Any]) -> str:
        refs = obj.get("object_marking_refs")
        for ref in refs if isinstance(refs, list) else []:
            if isinstance(ref, str) and ref in self.tlp:
                return self.tlp[ref]
        return ""


def _confidence(obj: dict[str, Any]) -> int | None:
    value = obj.get("confidence")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise RecordError("confidence not an integer 0-100")
    return value


def read_stix(data: Any, source: str, out: IntelSet) -> int:
    """Add the usable indicators of one bundle to ``out``; returns how many were added."""
    objects = stix_objects(data)
    graph = _Graph(objects)
    added = 0
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict) or obj.get("type") != "indicator":
            continue
        where = f"{source} {obj.get('id') if isinstance(obj.get('id'), str) else f'object {i}'}"
        try:
            added += _indicator(obj, source, graph, out, where)
        except Unsupported as exc:
            out.report.reject(f"stix: unsupported pattern: {reason_of(exc)}", f"{where}: {exc}")
        except (RecordError, ValueError, TypeError) as exc:
            out.report.reject(f"stix: {reason_of(exc)}", f"{where}: {exc}")
    return added


def _indicator(obj: dict[str, Any], source: str, graph: _Graph, out: IntelSet, where: str) -> int:
    if obj.get("revoked") is True:
        out.report.reject("stix: revoked", where)
        return 0
    pattern_type = obj.get("pattern_type", "stix")
    if pattern_type != "stix":
        out.report.reject("stix: pattern_type is not stix", f"{where}: {str(pattern_type)[:30]}")
        return 0
    terms = compile_pattern(obj.get("pattern"))
    valid_from, valid_until = _time(obj, "valid_from"), _time(obj, "valid_until")
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise RecordError("valid_until not after valid_from")
    ident = _text(obj.get("id"))
    related = graph.related(ident)
    attacks = _techniques(obj) + tuple(t for r in related for t in r.attacks)
    labels = _strings(obj.get("labels")) + _strings(obj.get("indicator_types"))
    base = Indicator(
        kind="",
        value="",
        source=source,
        ref=ident,
        confidence=_confidence(obj),
        labels=tuple(dict.fromkeys(labels)),
        attacks=tuple(dict.fromkeys(attacks)),
        tactics=_tactics(obj),
        related=related,
        valid_from=valid_from,
        valid_until=valid_until,
        created=_text(obj.get("created"))[:40],
        modified=_text(obj.get("modified"))[:40],
        name=_text(obj.get("name"))[:200],
        description=_text(obj.get("description")),
        tlp=graph.marking(obj),
    )
    for kind, value, feed_path in terms:
        out.add(replace(base, kind=kind, value=value, feed_type=feed_path))
    return len(terms)
