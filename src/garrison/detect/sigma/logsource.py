"""Which events a rule's ``logsource`` applies to, from data/logsources.yaml.

Events are grouped by a *source key*: for Windows events (they carry ``Channel``) the channel,
EventID and provider; for other events the ingest format, OCSF class and the product/services
the data file derives for them. A rule's logsource becomes a list of ``Target``s; a rule
applies to a key when one of its targets does. Keys are few (tens to hundreds per run), so
the engine computes, once per key, the rules that apply and indexes them (see engine.py).

A logsource the data does not know (a new Windows category, an unknown service) is applied
to every event of its product rather than dropped: the rule's own detection still decides,
and the loader counts such rules as ``unmapped`` so the gap is visible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from garrison.core import safeyaml

#: The constant fields of a Windows source key, folded into rules at bucket build time.
KEY_FIELDS = ("Channel", "EventID", "Provider_Name")


@dataclass(frozen=True, slots=True)
class SourceKey:
    """What is constant for a group of events; ``consts`` holds raw field values."""

    family: str  # "windows" or a product name ("linux", "zeek" ...) or "" when unknown
    channel: str = ""  # lower-case
    eventid: str = ""
    provider: str = ""
    fmt: str = ""
    class_uid: int = -1
    services: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    #: Raw field values every event of this key shares (folded into rule conditions).
    consts: tuple[tuple[str, Any], ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Target:
    """One place a logsource's events are found."""

    family: str
    channels: frozenset[str] | None = None  # lower-case channel names; None: any
    eventids: frozenset[str] | None = None  # text form; None: any
    fieldmap: str = ""
    #: Extra conditions the target adds (field -> accepted values, case-insensitive).
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    service: str = ""
    category: str = ""

    def applies(self, key: SourceKey) -> bool:
        if self.family != key.family:
            return False
        if key.family == "windows":
            if self.channels is not None and key.channel not in self.channels:
                return False
            return self.eventids is None or key.eventid in self.eventids
        if self.service and self.service not in key.services:
            return False
        return not self.category or self.category in key.categories


@dataclass(slots=True)
class LogsourceMap:
    services: dict[str, frozenset[str]] = field(default_factory=dict)
    categories: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    other: list[dict[str, Any]] = field(default_factory=list)

    def targets(self, logsource: Mapping[str, str]) -> tuple[list[Target], bool]:
        """The targets of a rule's logsource, and whether the mapping knew it."""
        product = logsource.get("product", "")
        category = logsource.get("category", "")
        service = logsource.get("service", "")
        if product == "windows" or (not product and category in self.categories):
            return self._windows(category, service)
        if not product:
            if category and any(category in _cats(o) for o in self.other):
                fams = sorted({o["product"] for o in self.other if category in _cats(o)})
                return [Target(family=f, category=category) for f in fams], True
            return [Target(family="")], False
        known = any(o["product"] == product for o in self.other)
        return [Target(family=product, service=service, category=category)], known

    def _windows(self, category: str, service: str) -> tuple[list[Target], bool]:
        if category:
            specs = self.categories.get(category)
            if specs is None:
                return [Target("windows")], False
            out = []
            for spec in specs:
                if service and spec["service"] != service:
                    continue
                where = tuple(
                    (k, tuple(str(x).lower() for x in (v if isinstance(v, list) else [v])))
                    for k, v in (spec.get("where") or {}).items()
                )
                out.append(
                    Target(
                        "windows",
                        self.services.get(spec["service"]),
                        frozenset(str(e) for e in spec["eventids"]),
                        fieldmap=spec.get("fieldmap", ""),
                        where=where,
                    )
                )
            if out:
                return out, True
        if service:
            channels = self.services.get(service)
            if channels is None:
                return [Target("windows")], False
            return [Target("windows", channels)], True
        return [Target("windows")], True

    def key_for(
        self,
        fields: Mapping[str, Any],
        fmt: str,
        class_uid: int,
        ocsf: Mapping[str, Any] | None = None,
    ) -> SourceKey:
        """The source key of one event."""
        channel = fields.get("Channel")
        if isinstance(channel, str) and channel:
            raw = (channel, fields.get("EventID"), fields.get("Provider_Name"))
            return SourceKey(
                "windows",
                channel.lower(),
                _text(raw[1]),
                _text(raw[2]).lower(),
                consts=tuple(
                    (k, v) for k, v in zip(KEY_FIELDS, raw, strict=True) if type(v) in (str, int)
                ),
            )
        for spec in self.other:
            if fmt in spec["formats"]:
                return SourceKey(
                    spec["product"],
                    fmt=fmt,
                    class_uid=class_uid,
                    services=_services(spec, service_value(spec, fields, ocsf)),
                    categories=frozenset(spec.get("categories", {}).get(class_uid, [])),
                )
        return SourceKey("", fmt=fmt, class_uid=class_uid)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _cats(spec: Mapping[str, Any]) -> set[str]:
    return {c for cats in spec.get("categories", {}).values() for c in cats}


def service_value(
    spec: Mapping[str, Any], fields: Mapping[str, Any], ocsf: Mapping[str, Any] | None
) -> Any:
    """The value naming an event's service: a field (``service_field``) or an OCSF path
    (``service_ocsf``, e.g. Zeek's log name in ``metadata.log_name``)."""
    name_field = spec.get("service_field")
    if name_field:
        value = fields.get(name_field)
        if value is not None:
            return value
    path = spec.get("service_ocsf")
    cur: Any = ocsf
    if path and isinstance(cur, Mapping):
        for part in str(path).split("."):
            cur = cur.get(part) if isinstance(cur, Mapping) else None
        return cur
    return None


def _services(spec: Mapping[str, Any], value: Any) -> frozenset[str]:
    out = set(spec.get("services", []))
    if isinstance(value, str) and value:
        low = value.lower()
        out.update(spec.get("service_names", {}).get(low, [low]))
    return frozenset(out)


def load_logsources(text: str | None = None) -> LogsourceMap:
    """The shipped mapping (or ``text`` in the same YAML form)."""
    data = safeyaml.load(text) if text is not None else _shipped()
    win = data.get("windows", {})
    services = {k: frozenset(c.lower() for c in v) for k, v in win.get("services", {}).items()}
    categories = {k: list(v) for k, v in win.get("categories", {}).items()}
    for name, specs in categories.items():
        for spec in specs:
            if spec["service"] not in services:
                raise ValueError(
                    f"logsources: category {name} names unknown service {spec['service']}"
                )
    return LogsourceMap(services, categories, list(data.get("other", [])))


@cache
def _shipped() -> dict[str, Any]:
    from garrison.govern.registry.gate import read_shipped_text

    text = read_shipped_text("garrison.detect.sigma", "data/logsources.yaml")
    data: dict[str, Any] = safeyaml.load(text)
    return data


@cache
def default_logsources() -> LogsourceMap:
    return load_logsources()
