"""Windows records -> the flat ``fields`` view (docs/architecture.md): ``WinFlat``, the shared
value helpers, and the EVTX JSON flattening (``_windows_flat`` does the flat exports).

EVTX JSON as the ``evtx`` parser writes it: ``Event.System`` (attributes under
``#attributes``), ``Event.EventData`` (named items as keys, unnamed ones under
``Data.#text``), or ``Event.UserData`` (nested elements). Every input shape ends in the same
``WinFlat``: the flat fields, the event data alone (``payload``, kept verbatim for OCSF Base
Events), the event time in ms and the original time text. Every value here is
attacker-controlled: odd types never raise anything but ``RecordError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from garrison.core.errors import RecordError
from garrison.core.timeutil import in_range, parse_iso_ms
from garrison.normalize._windows_map import family_of, windows_map

_MAP = windows_map()
_CHANNELS = _MAP.channels
_SCALARS = (str, int, float, bool, type(None))
_SCALAR_SET = frozenset(_SCALARS)
#: EventData keys that are not item names: unnamed ``<Data>`` text and the element's own
#: attributes.
_SPECIAL_KEYS = frozenset({"Data", "#text", "#attributes"})
_MAX_DEPTH = 32
_fromiso = datetime.fromisoformat


@dataclass(slots=True)
class WinFlat:
    """One Windows record, flattened: what the OCSF builders and the normalizer need."""

    fields: dict[str, Any]
    #: The event data alone (EVTX: the EventData/UserData object as parsed; flat: the data
    #: keys), kept verbatim as ``unmapped`` in OCSF Base Events.
    payload: Any
    event_id: int
    family: str
    time: int
    original_time: str
    message: str | None = None
    #: Where the record was collected, when that is not the event's machine (NXLog ``host``).
    collector: str | None = None
    #: Which input value the time came from ("SystemTime", "UtcTime", "TimeCreated" ...).
    time_source: str = ""
    #: OCSF severity_id from an exporter's own severity, used when there is no Level.
    severity_hint: int | None = None


# ----------------------------------------------------------------------------- helpers


def as_int(value: Any) -> int | None:
    """An int from an int or a decimal/hex string; None for anything else."""
    if type(value) is int:
        return value
    if type(value) is str:
        text = value.strip()
        try:
            return int(text, 16) if text[:2] in ("0x", "0X") else int(text)
        except ValueError:
            return None
    return None


def canonical_channel(channel: Any) -> Any:
    if type(channel) is not str:
        return channel
    return _CHANNELS.get(channel.lower(), channel)


def time_ms(text: Any, what: str) -> int:
    """Milliseconds from an ISO timestamp (naive = UTC), or ``RecordError``."""
    if type(text) is not str:
        raise RecordError(f"unusable timestamp in {what}: {type(text).__name__} {str(text)[:40]!r}")
    try:
        dt = _fromiso(text)
    except ValueError:
        ms = parse_iso_ms(text)  # raises RecordError with the text
    else:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        ms = int(dt.timestamp() * 1000)
    if not in_range(ms):
        raise RecordError(f"unusable timestamp in {what}: {text[:40]!r} is outside 2000-2100")
    return ms


def iso_z(ms: int) -> str:
    """``2020-09-13T12:26:40.123Z``; the text up to the second is cached (events of a log
    cluster in time), which makes this ~7x cheaper than formatting each one."""
    seconds, millis = divmod(ms, 1000)
    return f"{_iso_second(seconds)}{millis:03d}Z"


@lru_cache(maxsize=4096)
def _iso_second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")


def _text(value: Any) -> str:
    if type(value) is str:
        return value
    if type(value) is dict:
        inner = value.get("#text")
        return "" if inner is None else _text(inner)
    if type(value) is list:
        return "\n".join(_text(v) for v in value)
    return "" if value is None else str(value)


def _joined(value: Any) -> Any:
    """Unnamed ``<Data>`` items: one value, several joined with newlines."""
    if type(value) is dict:
        value = value.get("#text")
    if type(value) is list:
        return "\n".join(_text(v) for v in value)
    return value if type(value) in _SCALARS else _text(value)


def plain(value: Any) -> Any:
    """A field value as str/int/None: lists joined, dicts by their text or as JSON."""
    if type(value) in _SCALARS:
        return value
    if type(value) is dict and "#text" in value:
        return _joined(value)
    if type(value) is list:
        return "\n".join(_text(v) for v in value)
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)[:65536]


def put_field(out: dict[str, Any], name: str, value: Any) -> None:
    out[name] = value
    if " " in name:
        out[name.replace(" ", "")] = value


# ----------------------------------------------------------------------------- EVTX


def from_evtx(data: Any) -> WinFlat:
    """Flatten one record of ``evtx`` JSON (``{"Event": {"System": ..., "EventData": ...}}``).

    EventData/UserData items are written over the System values (docs/architecture.md:
    event data wins on a name clash); the EventID and time used for mapping are always the
    System ones. The payload kept for OCSF Base Events is the EventData (or UserData) object
    as parsed.
    """
    event = data.get("Event") if type(data) is dict else None
    if type(event) is not dict:
        raise RecordError("EVTX record has no Event element")
    system = event.get("System")
    if type(system) is not dict:
        raise RecordError("EVTX record has no System element")
    fields = _system_fields(system)
    event_id = fields.get("EventID")
    if type(event_id) is not int or not 0 <= event_id < 1 << 32:
        event_id = event_id_of(event_id)
        fields["EventID"] = event_id
    original = fields.get("TimeCreated")
    if original is None:
        raise RecordError("EVTX record has no System/TimeCreated/SystemTime")
    ms = time_ms(original, "System/TimeCreated")
    channel = fields.get("Channel")
    family = family_of(channel, fields.get("Provider_Name"))
    payload = event.get("EventData")
    if payload is not None:
        event_data_into(payload, fields, 0)
    message = None
    if len(event) > 2 + ("EventData" in event):  # UserData, RenderingInfo ... (rare)
        for section, value in event.items():
            if section in ("System", "EventData", "#attributes") or value is None:
                continue
            if section == "RenderingInfo":
                message = _rendered_message(value)
                continue
            leaves: dict[str, Any] = {}
            leaves_into(value, section, leaves, 0)
            fields.update(leaves)
            if payload is None:
                payload = {section: value}
    if message is not None and "Message" not in fields:
        fields["Message"] = message
    return WinFlat(
        fields, payload, event_id, family, ms, str(original), message, None, "SystemTime"
    )


def event_id_of(value: Any) -> int:
    eid = as_int(value)
    if eid is None or not 0 <= eid < 1 << 32:
        raise RecordError(f"no usable EventID ({str(value)[:40]!r})")
    return eid


#: Field names of System attributes, precomputed for the common elements.
_ATTR_NAMES: dict[str, dict[str, str]] = {
    "Provider": {
        "Name": "Provider_Name",
        "Guid": "Provider_Guid",
        "EventSourceName": "Provider_EventSourceName",
    },
    "TimeCreated": {"SystemTime": "TimeCreated"},
    "Execution": {"ProcessID": "Execution_ProcessID", "ThreadID": "Execution_ThreadID"},
    "Security": {"UserID": "Security_UserID"},
    "Correlation": {
        "ActivityID": "Correlation_ActivityID",
        "RelatedActivityID": "Correlation_RelatedActivityID",
    },
    "EventID": {"Qualifiers": "EventID_Qualifiers"},
}


def _system_fields(system: dict[str, Any]) -> dict[str, Any]:
    """System children: attributes as ``Element_Attribute`` (Provider_Name, Security_UserID,
    Execution_ProcessID ...; ``TimeCreated`` for its SystemTime), element text under the
    element's name.

    This runs for every EVTX record, so it avoids calls for the common scalar cases; the
    parser writes numbers as numbers and channels in their canonical case, so neither is
    converted here (flat exports go through ``_system_types``).
    """
    fields: dict[str, Any] = {}
    scalars = _SCALAR_SET
    attr_names = _ATTR_NAMES
    for key, value in system.items():
        if value.__class__ is not dict:
            if value is not None:
                fields[key] = value if value.__class__ in scalars else plain(value)
            continue
        attrs = value.get("#attributes")
        if attrs.__class__ is dict:
            names = attr_names.get(key)
            for name, attr in attrs.items():
                field = names.get(name) if names is not None else None
                fields[field if field is not None else f"{key}_{name}"] = (
                    attr if attr.__class__ in scalars else plain(attr)
                )
        if len(value) > 1 or attrs is None:  # element text beside (or instead of) attributes
            text = value.get("#text")
            if text is not None:
                fields[key] = text if text.__class__ in scalars else plain(text)
    return fields


def event_data_into(value: Any, out: dict[str, Any], depth: int) -> None:
    """EventData items into ``out``: named items by name, unnamed ``<Data>`` as ``Data``."""
    if value.__class__ is dict:
        scalars = _SCALAR_SET
        special = _SPECIAL_KEYS
        for key, item in value.items():
            if key in special:
                if key != "#attributes":
                    out["Data"] = _joined(item)
            elif item.__class__ in scalars:
                out[key] = item
                if " " in key:
                    out[key.replace(" ", "")] = item
            else:
                put_field(out, key, plain(item))
    elif value.__class__ is list and depth < 2:
        for item in value:
            event_data_into(item, out, depth + 1)
    elif value is not None:
        out["Data"] = plain(value)


def leaves_into(node: Any, parent: str, out: dict[str, Any], depth: int) -> None:
    """UserData-style nesting: leaves by their own name; a clash stores ``Parent_Leaf``."""
    if type(node) is not dict:
        if node is not None:
            _leaf(out, parent, parent, plain(node))
        return
    for key, value in node.items():
        if key == "#attributes":
            continue
        if type(value) is dict and depth < _MAX_DEPTH:
            leaves_into(value, key, out, depth + 1)
        else:
            _leaf(out, parent, parent if key == "#text" else key, plain(value))


def _leaf(out: dict[str, Any], parent: str, name: str, value: Any) -> None:
    if name not in out:
        put_field(out, name, value)
    else:
        alt = f"{parent}_{name}"
        if alt not in out:
            put_field(out, alt, value)


def _rendered_message(value: Any) -> str | None:
    if type(value) is dict:
        message = value.get("Message")
        if message is not None:
            return _text(message)
    return None
