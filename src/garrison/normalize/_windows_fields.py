"""Windows records -> the flat ``fields`` view (see COMMON.md), from EVTX JSON or flat dicts.

Two shapes come in:

- EVTX JSON as the ``evtx`` parser writes it: ``Event.System`` (attributes under
  ``#attributes``), ``Event.EventData`` (named items as keys, unnamed ones under
  ``Data.#text``), or ``Event.UserData`` (nested elements).
- Flat dicts as OTRF/Mordor exports write them: event data at the top level beside the
  metadata, in two flavours. NXLog via Logstash (``EventTime`` local time, ``@timestamp`` UTC
  receive time, ``host`` = the collector, NXLog's own ``EventType``/``Severity``/``Category``)
  and a flatter export (``TimeCreated``, ``Hostname``, ``Message``, ``SourceName``).

Both end in the same ``WinFlat``: the flat fields, the event-data items alone (``payload``,
kept verbatim for OCSF Base Events), the event time in ms and the original time text.
Every value here is attacker-controlled: odd types never raise anything but ``RecordError``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from garrison.core.errors import RecordError
from garrison.core.timeutil import in_range, parse_iso_ms
from garrison.normalize._windows_map import SYSMON, family_of, windows_map

_MAP = windows_map()
_CHANNELS = _MAP.channels
_SCALARS = (str, int, float, bool, type(None))
_SCALAR_SET = frozenset(_SCALARS)
#: EventData keys that are not item names: unnamed ``<Data>`` text and the element's own
#: attributes.
_SPECIAL_KEYS = frozenset({"Data", "#text", "#attributes"})
_MAX_DEPTH = 32
_fromiso = datetime.fromisoformat

#: System values that are numbers in EVTX JSON but strings in some exports.
_INT_FIELDS = (
    "EventRecordID",
    "Level",
    "Task",
    "Opcode",
    "Version",
    "Execution_ProcessID",
    "Execution_ThreadID",
)
#: Flat-export names for System values (both Mordor flavours).
_RENAMES = {
    "Hostname": "Computer",
    "SourceName": "Provider_Name",
    "ProviderName": "Provider_Name",
    "ProviderGuid": "Provider_Guid",
    "RecordNumber": "EventRecordID",
    "ExecutionProcessID": "Execution_ProcessID",
    "ExecutionThreadID": "Execution_ThreadID",
}
#: NXLog names that only mean System values in NXLog records (elsewhere they may be data).
_NXLOG_RENAMES = {
    "ThreadID": "Execution_ThreadID",
    "UserID": "Security_UserID",
    "OpcodeValue": "Opcode",
}
#: NXLog/Logstash transport metadata: not Windows event data, kept out of ``fields``.
_NXLOG_META = frozenset(
    {
        "host",
        "port",
        "@version",
        "@timestamp",
        "tags",
        "EventReceivedTime",
        "SourceModuleName",
        "SourceModuleType",
        "Severity",
        "SeverityValue",
        "EventTime",
        "EventTypeOrignal",
        "EventTypeOriginal",
        "Category",
        "AccountName",
        "AccountType",
        "Domain",
        "Opcode",
        "ActivityID",
        "RelatedActivityID",
    }
)
_NXLOG_MARKERS = ("SourceModuleType", "EventReceivedTime", "SourceModuleName")
#: NXLog SeverityValue (1 DEBUG .. 5 CRITICAL) -> OCSF severity_id.
_NXLOG_SEVERITY = {1: 1, 2: 1, 3: 3, 4: 4, 5: 5}
#: NXLog's own EventType values; Sysmon's EventType (SetValue, CreateKey ...) is never one.
_NXLOG_EVENT_TYPES = frozenset(
    {"INFO", "AUDIT_SUCCESS", "AUDIT_FAILURE", "WARNING", "ERROR", "CRITICAL", "VERBOSE"}
)
_SYSMON_TYPED = frozenset({12, 13, 14, 17, 18, 19, 20, 21})
_SYSTEM_NAMES = frozenset(
    {
        "EventID",
        "Channel",
        "Provider_Name",
        "Provider_Guid",
        "Computer",
        "EventRecordID",
        "Level",
        "Task",
        "Opcode",
        "Keywords",
        "Version",
        "TimeCreated",
        "Execution_ProcessID",
        "Execution_ThreadID",
        "Security_UserID",
    }
)
_EVENT_TYPE_LINE = re.compile(r"(?m)^EventType: (\w+)")
#: Local time -> UTC offsets are whole quarter hours; a larger remainder is a receive delay.
_HOUR_MS = 60 * 60 * 1000
_QUARTER_HOUR_MS = 15 * 60 * 1000
_MAX_RECEIVE_DELAY_MS = 5 * 60 * 1000


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
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


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


def _plain(value: Any) -> Any:
    """A field value as str/int/None: lists joined, dicts by their text or as JSON."""
    if type(value) in _SCALARS:
        return value
    if type(value) is dict and "#text" in value:
        return _joined(value)
    if type(value) is list:
        return "\n".join(_text(v) for v in value)
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)[:65536]


def _put(out: dict[str, Any], name: str, value: Any) -> None:
    out[name] = value
    if " " in name:
        out[name.replace(" ", "")] = value


# ----------------------------------------------------------------------------- EVTX


def from_evtx(data: Any) -> WinFlat:
    """Flatten one record of ``evtx`` JSON (``{"Event": {"System": ..., "EventData": ...}}``).

    EventData/UserData items are written over the System values (COMMON.md: event data wins
    on a name clash); the EventID and time used for mapping are always the System ones. The
    payload kept for OCSF Base Events is the EventData (or UserData) object as parsed.
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
        event_id = _event_id(event_id)
        fields["EventID"] = event_id
    original = fields.get("TimeCreated")
    if original is None:
        raise RecordError("EVTX record has no System/TimeCreated/SystemTime")
    ms = time_ms(original, "System/TimeCreated")
    channel = fields.get("Channel")
    family = family_of(channel, fields.get("Provider_Name"))
    payload = event.get("EventData")
    if payload is not None:
        _event_data(payload, fields, 0)
    message = None
    if len(event) > 2 + ("EventData" in event):  # UserData, RenderingInfo ... (rare)
        for section, value in event.items():
            if section in ("System", "EventData", "#attributes") or value is None:
                continue
            if section == "RenderingInfo":
                message = _rendered_message(value)
                continue
            leaves: dict[str, Any] = {}
            _leaves(value, section, leaves, 0)
            fields.update(leaves)
            if payload is None:
                payload = {section: value}
    if message is not None and "Message" not in fields:
        fields["Message"] = message
    return WinFlat(
        fields, payload, event_id, family, ms, str(original), message, None, "SystemTime"
    )


def _event_id(value: Any) -> int:
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
                fields[key] = value if value.__class__ in scalars else _plain(value)
            continue
        attrs = value.get("#attributes")
        if attrs.__class__ is dict:
            names = attr_names.get(key)
            for name, attr in attrs.items():
                field = names.get(name) if names is not None else None
                fields[field if field is not None else f"{key}_{name}"] = (
                    attr if attr.__class__ in scalars else _plain(attr)
                )
        if len(value) > 1 or attrs is None:  # element text beside (or instead of) attributes
            text = value.get("#text")
            if text is not None:
                fields[key] = text if text.__class__ in scalars else _plain(text)
    return fields


def _event_data(value: Any, out: dict[str, Any], depth: int) -> None:
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
                _put(out, key, _plain(item))
    elif value.__class__ is list and depth < 2:
        for item in value:
            _event_data(item, out, depth + 1)
    elif value is not None:
        out["Data"] = _plain(value)


def _leaves(node: Any, parent: str, out: dict[str, Any], depth: int) -> None:
    """UserData-style nesting: leaves by their own name; a clash stores ``Parent_Leaf``."""
    if type(node) is not dict:
        if node is not None:
            _leaf(out, parent, parent, _plain(node))
        return
    for key, value in node.items():
        if key == "#attributes":
            continue
        if type(value) is dict and depth < _MAX_DEPTH:
            _leaves(value, key, out, depth + 1)
        else:
            _leaf(out, parent, parent if key == "#text" else key, _plain(value))


def _leaf(out: dict[str, Any], parent: str, name: str, value: Any) -> None:
    if name not in out:
        _put(out, name, value)
    else:
        alt = f"{parent}_{name}"
        if alt not in out:
            _put(out, alt, value)


def _rendered_message(value: Any) -> str | None:
    if type(value) is dict:
        message = value.get("Message")
        if message is not None:
            return _text(message)
    return None


# ----------------------------------------------------------------------------- flat dicts


def from_flat(data: Any) -> WinFlat:
    """Flatten a Windows-shaped flat dict (Mordor/OTRF JSON line)."""
    if type(data) is not dict:
        raise RecordError(f"Windows record is not a JSON object ({type(data).__name__})")
    event = data.get("Event")
    if type(event) is dict and "System" in event:
        return from_evtx(data)  # EVTX JSON written as JSON lines (evtx_dump and the like)
    if type(data.get("winlog")) is dict:
        return from_winlogbeat(data)
    nxlog = any(marker in data for marker in _NXLOG_MARKERS)
    fields: dict[str, Any] = {}
    renamed: dict[str, Any] = {}
    payload: dict[str, Any] = {}
    for key, value in data.items():
        if (nxlog and key in _NXLOG_META) or key == "@timestamp" or key == "Message":
            continue
        name = _RENAMES.get(key) or (_NXLOG_RENAMES.get(key) if nxlog else None)
        if name is not None:
            renamed[name] = _plain(value)
        elif key in _SYSTEM_NAMES:
            fields[key] = _plain(value)
        else:
            _put(payload, key, _plain(value))
    for name, value in renamed.items():  # a field already under its convention name wins
        fields.setdefault(name, value)
    event_id = _event_id(data.get("EventID"))
    fields["EventID"] = event_id
    _system_types(fields)
    family = family_of(fields.get("Channel"), fields.get("Provider_Name"))
    message = data.get("Message")
    message = message if type(message) is str else None
    _fix_event_type(payload, family, event_id, message)
    if (
        message is not None
        and "Data" not in payload
        and fields.get("Channel") == "Windows PowerShell"
    ):
        payload["Data"] = message  # classic PowerShell: Sigma matches the rendered text as Data
    ms, original, source = _flat_time(data, family, nxlog)
    fields.update(payload)
    fields["TimeCreated"] = iso_z(ms)
    if message is not None:
        fields["Message"] = message
    collector = data.get("host") if nxlog and type(data.get("host")) is str else None
    severity = data.get("SeverityValue")
    hint = _NXLOG_SEVERITY.get(severity) if nxlog and type(severity) is int else None
    return WinFlat(
        fields, payload, event_id, family, ms, original, message, collector, source, hint
    )


#: Winlogbeat ``winlog.*`` -> System field names.
_WINLOG_SYSTEM = {
    "channel": "Channel",
    "provider_name": "Provider_Name",
    "provider_guid": "Provider_Guid",
    "computer_name": "Computer",
    "record_id": "EventRecordID",
    "version": "Version",
    "opcode": "Opcode",
    "task": "Task",
}
_LEVEL_NAMES = {"critical": 1, "error": 2, "warning": 3, "information": 4, "info": 4, "verbose": 5}


def from_winlogbeat(data: dict[str, Any]) -> WinFlat:
    """Winlogbeat/Elastic Agent documents: ``winlog.event_data`` etc. under ``winlog``."""
    winlog = data["winlog"]
    fields: dict[str, Any] = {}
    for key, name in _WINLOG_SYSTEM.items():
        if winlog.get(key) is not None:
            fields[name] = _plain(winlog[key])
    process = winlog.get("process")
    if type(process) is dict:
        fields["Execution_ProcessID"] = _plain(process.get("pid"))
        thread = process.get("thread")
        if type(thread) is dict:
            fields["Execution_ThreadID"] = _plain(thread.get("id"))
    user = winlog.get("user")
    if type(user) is dict and user.get("identifier") is not None:
        fields["Security_UserID"] = _plain(user["identifier"])
    if "Computer" not in fields:
        host = data.get("host")
        if type(host) is dict and host.get("name") is not None:
            fields["Computer"] = _plain(host["name"])
    log = data.get("log")
    level = log.get("level") if type(log) is dict else None
    if type(level) is str and level.lower() in _LEVEL_NAMES:
        fields["Level"] = _LEVEL_NAMES[level.lower()]
    event_id = _event_id(winlog.get("event_id"))
    fields["EventID"] = event_id
    _system_types(fields)
    payload: dict[str, Any] = {}
    event_data = winlog.get("event_data")
    if event_data is not None:
        _event_data(event_data, payload, 0)
        if "param1" in payload and "Data" not in payload:  # unnamed items, numbered
            params = [payload[k] for k in sorted(payload, key=_param_no) if _param_no(k)]
            payload["Data"] = "\n".join(str(p) for p in params)
    if winlog.get("user_data") is not None:
        _leaves(winlog["user_data"], "UserData", payload, 0)
    stamp = data.get("@timestamp")
    created = winlog.get("time_created")
    original = created if type(created) is str else stamp
    ms = time_ms(original, "@timestamp")
    fields.update(payload)
    fields["TimeCreated"] = original
    message = data.get("message")
    message = message if type(message) is str else None
    if message is not None:
        fields["Message"] = message
    family = family_of(fields.get("Channel"), fields.get("Provider_Name"))
    return WinFlat(
        fields, payload, event_id, family, ms, str(original), message, None, "@timestamp"
    )


def _param_no(key: str) -> int:
    return int(key[5:]) if key.startswith("param") and key[5:].isdigit() else 0


def _system_types(fields: dict[str, Any]) -> None:
    channel = fields.get("Channel")
    if channel is not None:
        fields["Channel"] = canonical_channel(channel)
    for name in _INT_FIELDS:
        value = fields.get(name)
        if type(value) is str:
            number = as_int(value)
            if number is not None:
                fields[name] = number
    keywords = fields.get("Keywords")
    if type(keywords) is int:  # NXLog writes the 64-bit mask as a signed integer
        fields["Keywords"] = f"0x{keywords & 0xFFFFFFFFFFFFFFFF:x}"


def _fix_event_type(
    payload: dict[str, Any], family: str, event_id: int, message: str | None
) -> None:
    """Drop NXLog's EventType; give Sysmon registry/pipe/WMI events theirs back."""
    current = payload.get("EventType")
    if current in _NXLOG_EVENT_TYPES:
        del payload["EventType"]
        current = None
    if family != SYSMON or event_id not in _SYSMON_TYPED or current is not None:
        return
    if message is not None:
        found = _EVENT_TYPE_LINE.search(message)
        if found:
            payload["EventType"] = found.group(1)
            return
    known = _MAP.sysmon_event_types.get(event_id)
    if known is not None:
        payload["EventType"] = known


def _zone_offset(diff: int) -> int | None:
    """The time-zone offset in ``diff`` (receive time in UTC minus local event time): the
    whole hour, else half or quarter hour, that leaves a receive delay of 0-5 minutes
    (EventTime has whole seconds, hence the second of slack). None when none fits."""
    for step in (_HOUR_MS, _HOUR_MS // 2, _QUARTER_HOUR_MS):
        offset = (diff // step) * step
        for candidate in (offset, offset + step):
            if -1000 <= diff - candidate <= _MAX_RECEIVE_DELAY_MS:
                return candidate
    return None


def _flat_time(data: dict[str, Any], family: str, nxlog: bool) -> tuple[int, str, str]:
    """The event time: Sysmon's UtcTime, NXLog's local EventTime put in UTC with the offset
    to ``@timestamp``, then TimeCreated, ``@timestamp``, EventTime."""
    if family == SYSMON and type(data.get("UtcTime")) is str:
        try:
            return time_ms(data["UtcTime"], "UtcTime"), data["UtcTime"], "UtcTime"
        except RecordError:
            pass
    local, stamp = data.get("EventTime"), data.get("@timestamp")
    if nxlog and type(local) is str and type(stamp) is str:
        local_ms, utc_ms = time_ms(local, "EventTime"), time_ms(stamp, "@timestamp")
        offset = _zone_offset(utc_ms - local_ms)
        if offset is not None:
            return local_ms + offset, local, "EventTime"
        return utc_ms, stamp, "@timestamp"
    created = data.get("TimeCreated")
    if type(created) is dict:
        created = created.get("SystemTime")
    for name, value in (
        ("TimeCreated", created),
        ("@timestamp", stamp),
        ("EventTime", local),
        ("UtcTime", data.get("UtcTime")),
    ):
        if value is not None:
            return time_ms(value, name), str(value), name
    raise RecordError("no timestamp: none of TimeCreated, UtcTime, EventTime, @timestamp")
