"""OCSF objects for Windows events: one mapping shared by EVTX and flat (Mordor/JSON) input.

The builders read only the flat ``fields`` (same names whatever the input shape), so EVTX,
Mordor and JSON-lines Windows events map identically. Which builder runs is decided by
(log family, EventID) from ``_windows_map.yaml``; anything else is an OCSF Base Event.

Entities are placed where ``garrison.core.entities`` looks for them: ``device.hostname``,
``actor.user.name``, ``user.name``, ``src_endpoint.ip``, ``dst_endpoint.ip``,
``query.hostname``, ``process.file.hashes[0].value``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from garrison.core.events import (
    CLASS_AUTHENTICATION,
    CLASS_BASE_EVENT,
    CLASS_DNS_ACTIVITY,
    CLASS_FILE_ACTIVITY,
    CLASS_NAMES,
    CLASS_NETWORK_ACTIVITY,
    CLASS_NETWORK_FILE_ACTIVITY,
    CLASS_PROCESS_ACTIVITY,
)
from garrison.normalize._ocsf_build import CATEGORY_NAMES, SEVERITY_NAMES
from garrison.normalize._ocsf_build import put_present as _put
from garrison.normalize._windows_fields import WinFlat, as_int
from garrison.normalize._windows_map import SYSMON, windows_map
from garrison.normalize._windows_values import (
    _basename,
    _file,
    _ip,
    _n,
    _process,
    _prune,
    _s,
    _subject,
    _sysmon_actor,
    _target,
    _user,
    _v,
    hashes_of,
)

OCSF_VERSION = "1.1.0"
_MAP = windows_map()
_CATEGORIES = CATEGORY_NAMES
_SEVERITIES = {**SEVERITY_NAMES, 99: "Other"}
#: Keywords bit 52: "Audit Failure".
_AUDIT_FAILURE = 0x10000000000000
_PROTOCOLS = {1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp"}
_DNS_RCODES = {
    0: (0, "NoError"),
    9001: (1, "FormError"),
    9002: (2, "ServFail"),
    9003: (3, "NXDomain"),
    9004: (4, "NotImp"),
    9005: (5, "Refused"),
}
_AUTH_ACTIVITY = {
    4624: (1, "Logon"),
    4625: (1, "Logon"),
    4634: (2, "Logoff"),
    4647: (2, "Logoff"),
    4648: (1, "Logon"),
    4672: (1, "Logon"),
    4768: (3, "Authentication Ticket"),
    4769: (4, "Service Ticket Request"),
    4771: (6, "Preauth"),
    4776: (99, "Credential Validation"),
}
_FILE_ACTIVITY = {11: (1, "Create"), 23: (4, "Delete"), 26: (4, "Delete")}
_DIRECTIONS = {"%%14592": (1, "Inbound"), "%%14593": (2, "Outbound")}

Ocsf = dict[str, Any]


# ----------------------------------------------------------------------------- builders


def _authentication(w: WinFlat, o: Ocsf) -> tuple[int, str]:
    f, eid = w.fields, w.event_id
    activity = _AUTH_ACTIVITY.get(eid, (99, "Other"))
    status = _s(f, "Status")
    failed = (
        eid in (4625, 4771)
        or (eid in (4768, 4769, 4776) and status is not None and as_int(status) not in (0, None))
        or _keywords(f) & _AUDIT_FAILURE != 0
    )
    o["status_id"], o["status"] = (2, "Failure") if failed else (1, "Success")
    if status is not None and (failed or eid not in (4624, 4634, 4647, 4648, 4672)):
        o["status_code"] = status
    detail = _s(f, "SubStatus") or _s(f, "FailureReason")
    if failed and detail is not None:
        o["status_detail"] = detail
    subject = _subject(f)
    if eid == 4672:
        _put(o, "user", subject)
    elif eid == 4776:
        _put(o, "user", _user(_s(f, "TargetUserName")))
    else:
        _put(o, "user", _target(f))
        if subject is not None:
            o.setdefault("actor", {})["user"] = subject
    proc = _process(_s(f, "ProcessName"), _n(f, "ProcessId") or None)
    if proc is not None:
        o.setdefault("actor", {})["process"] = proc
    remote = (
        _prune(
            {
                "ip": _ip(f, "IpAddress"),
                "port": _n(f, "IpPort") or None,
                "hostname": (_s(f, "WorkstationName") or _s(f, "Workstation") or "").lstrip("\\")
                or None,
            }
        )
        or {}
    )
    computer = _s(f, "Computer")
    if eid == 4648:  # explicit credentials: the address is the server they were used on
        _put(o, "src_endpoint", _prune({"hostname": computer}))
        _put(o, "dst_endpoint", _prune({**remote, "hostname": _s(f, "TargetServerName")}))
    else:
        _put(o, "src_endpoint", remote)
        _put(o, "dst_endpoint", _prune({"hostname": computer}))
    logon_type = _n(f, "LogonType")
    if logon_type is not None:
        o["logon_type_id"] = logon_type if logon_type in _MAP.logon_types else 99
        o["logon_type"] = _MAP.logon_types.get(logon_type, str(logon_type))
        o["is_remote"] = logon_type in (3, 8, 10, 12)
    o.update(_auth_protocol(f, eid))
    _put(o, "logon_process", _prune({"name": (_s(f, "LogonProcessName") or "").strip() or None}))
    _put(o, "session", _prune({"uid": _s(f, "TargetLogonId")}))
    _put(o, "service", _prune({"name": _s(f, "ServiceName")}))
    return activity


def _auth_protocol(f: dict[str, Any], eid: int) -> dict[str, Any]:
    if eid in (4768, 4769, 4771):
        return {"auth_protocol_id": 2, "auth_protocol": "Kerberos"}
    if eid == 4776:
        return {"auth_protocol_id": 1, "auth_protocol": "NTLM"}
    package = _s(f, "AuthenticationPackageName")
    if package is None:
        return {}
    key = package.strip().upper()
    if key == "NTLM" or key.startswith("MICROSOFT_AUTHENTICATION_PACKAGE"):
        return {"auth_protocol_id": 1, "auth_protocol": "NTLM"}
    if key == "KERBEROS":
        return {"auth_protocol_id": 2, "auth_protocol": "Kerberos"}
    return {"auth_protocol_id": 99, "auth_protocol": package.strip()}


def _keywords(f: dict[str, Any]) -> int:
    value = f.get("Keywords")
    number = as_int(value) if type(value) in (str, int) else None
    return number or 0


def _process_activity(w: WinFlat, o: Ocsf) -> tuple[int, str]:
    f = w.fields
    if w.event_id == 4688:
        parent = _process(_s(f, "ParentProcessName"), _n(f, "ProcessId"))
        proc = (
            _process(_s(f, "NewProcessName"), _n(f, "NewProcessId"), cmd_line=_s(f, "CommandLine"))
            or {}
        )
        target = _target(f)
        if target is not None:
            proc["user"] = target
        actor_user = _subject(f)
    else:
        parent = _process(
            _s(f, "ParentImage"),
            _n(f, "ParentProcessId"),
            _s(f, "ParentProcessGuid"),
            _s(f, "ParentCommandLine"),
        )
        proc = (
            _process(
                _s(f, "Image"),
                _n(f, "ProcessId"),
                _s(f, "ProcessGuid"),
                _s(f, "CommandLine"),
                hashes_of(f.get("Hashes")),
            )
            or {}
        )
        integrity = _s(f, "IntegrityLevel")
        if integrity is not None:
            proc["integrity"] = integrity
        actor_user = _user(_s(f, "User"))
        if actor_user is not None:
            proc["user"] = actor_user
    if parent is not None:
        proc["parent_process"] = parent
    _put(o, "process", proc)
    actor: dict[str, Any] = {}
    if actor_user is not None:
        actor["user"] = actor_user
    if parent is not None:
        actor["process"] = parent
    if actor:
        o["actor"] = actor
    return 1, "Launch"


def _network(w: WinFlat, o: Ocsf) -> tuple[int, str]:
    f = w.fields
    if w.event_id == 5156:
        _put(
            o, "src_endpoint", _prune({"ip": _ip(f, "SourceAddress"), "port": _n(f, "SourcePort")})
        )
        _put(o, "dst_endpoint", _prune({"ip": _ip(f, "DestAddress"), "port": _n(f, "DestPort")}))
        number = _n(f, "Protocol")
        direction = _DIRECTIONS.get(str(f.get("Direction")), (0, "Unknown"))
        pid = _n(f, "ProcessID") if _v(f, "ProcessID") is not None else _n(f, "ProcessId")
        _put(o, "actor", _prune({"process": _process(_s(f, "Application"), pid)}))
        _put(
            o,
            "connection_info",
            _prune(
                {
                    "protocol_num": number,
                    "protocol_name": _PROTOCOLS.get(number or -1),
                    "direction_id": direction[0],
                    "direction": direction[1],
                }
            ),
        )
        return 1, "Open"
    _put(
        o,
        "src_endpoint",
        _prune(
            {
                "ip": _ip(f, "SourceIp"),
                "port": _n(f, "SourcePort"),
                "hostname": _s(f, "SourceHostname"),
            }
        ),
    )
    _put(
        o,
        "dst_endpoint",
        _prune(
            {
                "ip": _ip(f, "DestinationIp"),
                "port": _n(f, "DestinationPort"),
                "hostname": _s(f, "DestinationHostname"),
            }
        ),
    )
    initiated = str(f.get("Initiated", "")).lower()
    direction = (
        (2, "Outbound")
        if initiated == "true"
        else ((1, "Inbound") if initiated == "false" else (0, "Unknown"))
    )
    protocol = _s(f, "Protocol")
    _put(
        o,
        "connection_info",
        _prune(
            {
                "protocol_name": protocol.lower() if protocol else None,
                "direction_id": direction[0],
                "direction": direction[1],
            }
        ),
    )
    _put(o, "actor", _sysmon_actor(f))
    return 1, "Open"


def _dns(w: WinFlat, o: Ocsf) -> tuple[int, str]:
    f = w.fields
    _put(o, "query", _prune({"hostname": _s(f, "QueryName")}))
    answers = _answers(f.get("QueryResults"))
    if answers:
        o["answers"] = answers
    status = _n(f, "QueryStatus")
    if status is not None:
        o["rcode_id"], o["rcode"] = _DNS_RCODES.get(status, (99, str(status)))
    _put(o, "actor", _sysmon_actor(f))
    return 6, "Traffic"


def _answers(value: Any) -> list[dict[str, Any]]:
    """Sysmon ``QueryResults``: "type:  5 cname.example;::ffff:10.0.0.1;" -> answers."""
    if type(value) is not str:
        return []
    answers = []
    for part in value.split(";"):
        part = part.strip()
        if not part or part == "-":
            continue
        if part.startswith("type:"):
            _, _, rest = part.partition(":")
            code, _, data = rest.strip().partition(" ")
            answer = {"type": "CNAME" if code == "5" else f"TYPE{code}"}
            if data.strip():
                answer["rdata"] = data.strip()
            answers.append(answer)
            continue
        if part.lower().startswith("::ffff:") and "." in part:
            part = part[7:]
        answers.append({"type": "AAAA" if ":" in part else "A", "rdata": part})
    return answers


def _file_activity(w: WinFlat, o: Ocsf) -> tuple[int, str]:
    f = w.fields
    _put(o, "file", _file(_s(f, "TargetFilename"), hashes_of(f.get("Hashes"))))
    _put(o, "actor", _sysmon_actor(f))
    return _FILE_ACTIVITY.get(w.event_id, (99, "Other"))


_SHARE_ACTIVITY = {5140: (99, "Share Access"), 5145: (99, "Share Access Check")}


def _share(w: WinFlat, o: Ocsf) -> tuple[int, str]:
    """Security 5140/5145, a network share opened from another machine: who (the subject),
    from where (IpAddress/IpPort) and what (the share and the file inside it)."""
    f = w.fields
    _put(o, "actor", _prune({"user": _subject(f)}))
    _put(o, "src_endpoint", _prune({"ip": _ip(f, "IpAddress"), "port": _n(f, "IpPort") or None}))
    share = _s(f, "ShareName")
    target = _s(f, "RelativeTargetName")
    _put(
        o,
        "file",
        _prune({"name": _basename(target) if target else None, "path": target}),
    )
    _put(o, "share", share)
    return _SHARE_ACTIVITY.get(w.event_id, (99, "Other"))


_BUILDERS: dict[str, tuple[int, Callable[[WinFlat, Ocsf], tuple[int, str]]]] = {
    "authentication": (CLASS_AUTHENTICATION, _authentication),
    "process": (CLASS_PROCESS_ACTIVITY, _process_activity),
    "network": (CLASS_NETWORK_ACTIVITY, _network),
    "dns": (CLASS_DNS_ACTIVITY, _dns),
    "file": (CLASS_FILE_ACTIVITY, _file_activity),
    "share": (CLASS_NETWORK_FILE_ACTIVITY, _share),
}


# ----------------------------------------------------------------------------- entry


#: Service accounts every machine logs under: as a System UserID they say which service
#: wrote the event (Sysmon, Defender, the service manager at boot), not who acted.
_SERVICE_SIDS = frozenset({"S-1-5-18", "S-1-5-19", "S-1-5-20"})


def _base_actor(w: WinFlat) -> dict[str, Any] | None:
    """Who acted, for events without a class of their own (service and task creation, log
    clearing, account changes ...): the Subject* account; Sysmon's ``User``; else the System
    UserID SID unless it is a service account's."""
    f = w.fields
    if "SubjectUserName" in f or "SubjectUserSid" in f:
        user = _subject(f)
    elif w.family == SYSMON:
        user = _user(_s(f, "User"))
    else:
        sid = _s(f, "Security_UserID")
        user = _user(None, None, sid) if sid not in _SERVICE_SIDS else None
    return None if user is None else {"user": user}


def _describe(class_uid: int, activity_id: int, activity: str) -> dict[str, Any]:
    """The descriptive OCSF attributes of a class/activity pair (cached: they never vary)."""
    key = (class_uid, activity_id, activity)
    found = _DESCRIPTIONS.get(key)
    if found is None:
        name = CLASS_NAMES[class_uid]
        found = {
            "class_name": name,
            "category_uid": class_uid // 1000,
            "category_name": _CATEGORIES[class_uid // 1000],
            "activity_id": activity_id,
            "activity_name": activity,
            "type_uid": class_uid * 100 + activity_id,
            "type_name": f"{name}: {activity}",
        }
        if len(_DESCRIPTIONS) < 256:
            _DESCRIPTIONS[key] = found
    return found


_DESCRIPTIONS: dict[tuple[int, int, str], dict[str, Any]] = {}


def build_ocsf(w: WinFlat) -> tuple[int, Ocsf]:
    """The OCSF class and object for one flattened Windows record."""
    f = w.fields
    builder = _BUILDERS.get(_MAP.classes.get((w.family, w.event_id), ""))
    level = f.get("Level")
    severity = _MAP.levels.get(level, 0) if type(level) is int else w.severity_hint or 0
    provider = f.get("Provider_Name")
    if provider is not None and type(provider) is not str:
        provider = str(provider)
    metadata: dict[str, Any] = {
        "version": OCSF_VERSION,
        "product": {"name": provider or "Microsoft Windows", "vendor_name": "Microsoft"},
        "event_code": str(w.event_id),
        "original_time": w.original_time,
    }
    channel = f.get("Channel")
    if channel is not None:
        metadata["log_name"] = str(channel)
    if provider:
        metadata["log_provider"] = provider
    uid = f.get("EventRecordID")
    if uid is not None:
        metadata["uid"] = str(uid)
    if w.collector:
        metadata["loggers"] = [{"name": "nxlog", "device": {"hostname": w.collector}}]
    computer = _s(f, "Computer")
    if builder is None:  # most events: one literal, no builder call
        ocsf: Ocsf = {
            "class_uid": CLASS_BASE_EVENT,
            "class_name": "Base Event",
            "category_uid": 0,
            "category_name": "Uncategorized",
            "activity_id": 0,
            "activity_name": "Unknown",
            "type_uid": 0,
            "type_name": "Base Event: Unknown",
            "time": w.time,
            "severity_id": severity,
            "severity": _SEVERITIES[severity],
            "metadata": metadata,
            "message": w.message or f"{provider or 'Windows'} event {w.event_id}",
        }
        if computer is not None:
            ocsf["device"] = {"hostname": computer}
        actor = _base_actor(w)
        if actor is not None:
            ocsf["actor"] = actor
        if w.payload:
            ocsf["unmapped"] = w.payload
        return CLASS_BASE_EVENT, ocsf
    class_uid = builder[0]
    ocsf = {
        "class_uid": class_uid,
        "time": w.time,
        "severity_id": severity,
        "severity": _SEVERITIES[severity],
        "metadata": metadata,
    }
    if computer is not None:
        ocsf["device"] = {"hostname": computer}
    activity_id, activity = builder[1](w, ocsf)
    ocsf.update(_describe(class_uid, activity_id, activity))
    return class_uid, ocsf
