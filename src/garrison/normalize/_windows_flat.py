"""Flat Windows-shaped dicts -> ``WinFlat``: OTRF/Mordor JSON lines and Winlogbeat documents.

OTRF/Mordor exports put the event data at the top level beside the metadata, in two
flavours. NXLog via Logstash: ``EventTime`` is local time, ``@timestamp`` the UTC receive
time, ``host`` the collector (not the event's machine), and NXLog's own ``EventType``
(INFO, AUDIT_SUCCESS), ``Severity``, ``Category``, ``AccountName`` ... sit among the data.
The flatter export has ``TimeCreated`` (the exporter's local time), ``Hostname``,
``Message``, ``SourceName``. Both are mapped to the flat names of docs/architecture.md
(``Hostname`` -> ``Computer``, ``SourceName`` -> ``Provider_Name``, ``RecordNumber`` ->
``EventRecordID`` ...), channel case canonicalised, NXLog transport metadata kept out of
``fields``, Sysmon's registry ``EventType`` restored where NXLog overwrote it. A dict holding
EVTX JSON (``Event.System``) goes through the EVTX flattening; Winlogbeat's ``winlog.*`` is mapped
too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from garrison.core.errors import RecordError
from garrison.normalize._windows_fields import (
    WinFlat,
    as_int,
    canonical_channel,
    event_data_into,
    event_id_of,
    from_evtx,
    iso_z,
    leaves_into,
    plain,
    time_ms,
)
from garrison.normalize._windows_map import SYSMON, family_of, windows_map

_MAP = windows_map()

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


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


@dataclass(frozen=True, slots=True)
class _Plan:
    """What ``from_flat`` does with the keys of one record shape.

    Records of one event type repeat the same keys in the same order, so the per-key
    decisions are made once per shape and the event data is copied with one ``dict()``
    instead of key by key. Equivalent to walking the keys in order: EventData items by
    name (a name with spaces also without them; a later writer of a name wins), System
    names to ``fields``, flat-export names renamed, transport metadata left out.
    """

    dropped: tuple[str, ...]  # keys that are not event data
    system: tuple[str, ...]  # System values under their own name
    renamed: tuple[tuple[str, str], ...]  # (key, System name)
    alternates: tuple[tuple[str, str], ...]  # (name without spaces, key it comes from)


#: Plans by (NXLog?, keys). Key names come from the input, so the cache is bounded.
_PLANS: dict[tuple[bool, tuple[str, ...]], _Plan] = {}
_MAX_PLANS = 2048


def _rename_of(key: str, nxlog: bool) -> str | None:
    return _RENAMES.get(key) or (_NXLOG_RENAMES.get(key) if nxlog else None)


def _plan_of(keys: tuple[str, ...], nxlog: bool) -> _Plan:
    dropped: list[str] = []
    system: list[str] = []
    renamed: list[tuple[str, str]] = []
    writer: dict[str, str] = {}  # payload name -> the key whose value it ends up holding
    for key in keys:
        if (nxlog and key in _NXLOG_META) or key == "@timestamp" or key == "Message":
            dropped.append(key)
        elif (name := _rename_of(key, nxlog)) is not None:
            dropped.append(key)
            renamed.append((key, name))
        elif key in _SYSTEM_NAMES:
            dropped.append(key)
            system.append(key)
        else:
            writer[key] = key
            if " " in key:
                writer[key.replace(" ", "")] = key
    alternates = tuple((name, key) for name, key in writer.items() if name != key)
    plan = _Plan(tuple(dropped), tuple(system), tuple(renamed), alternates)
    if len(_PLANS) < _MAX_PLANS:
        _PLANS[(nxlog, keys)] = plan
    return plan


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
    keys = tuple(data)
    plan = _PLANS.get((nxlog, keys)) or _plan_of(keys, nxlog)
    payload = dict(data)
    for key in plan.dropped:
        del payload[key]
    if not _SCALAR_TYPES.issuperset(map(type, payload.values())):
        payload = {k: v if v.__class__ in _SCALAR_TYPES else plain(v) for k, v in payload.items()}
    for name, key in plan.alternates:
        payload[name] = payload[key]
    fields = {key: plain(data[key]) for key in plan.system}
    renamed = {name: plain(data[key]) for key, name in plan.renamed}
    for name, value in renamed.items():  # a field already under its convention name wins
        fields.setdefault(name, value)
    event_id = event_id_of(data.get("EventID"))
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
            fields[name] = plain(winlog[key])
    process = winlog.get("process")
    if type(process) is dict:
        fields["Execution_ProcessID"] = plain(process.get("pid"))
        thread = process.get("thread")
        if type(thread) is dict:
            fields["Execution_ThreadID"] = plain(thread.get("id"))
    user = winlog.get("user")
    if type(user) is dict and user.get("identifier") is not None:
        fields["Security_UserID"] = plain(user["identifier"])
    if "Computer" not in fields:
        host = data.get("host")
        if type(host) is dict and host.get("name") is not None:
            fields["Computer"] = plain(host["name"])
    log = data.get("log")
    level = log.get("level") if type(log) is dict else None
    if type(level) is str and level.lower() in _LEVEL_NAMES:
        fields["Level"] = _LEVEL_NAMES[level.lower()]
    event_id = event_id_of(winlog.get("event_id"))
    fields["EventID"] = event_id
    _system_types(fields)
    payload: dict[str, Any] = {}
    event_data = winlog.get("event_data")
    if event_data is not None:
        event_data_into(event_data, payload, 0)
        if "param1" in payload and "Data" not in payload:  # unnamed items, numbered
            params = [payload[k] for k in sorted(payload, key=_param_no) if _param_no(k)]
            payload["Data"] = "\n".join(str(p) for p in params)
    if winlog.get("user_data") is not None:
        leaves_into(winlog["user_data"], "UserData", payload, 0)
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
