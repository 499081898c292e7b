"""JSON lines records -> OCSF. The object's own shape says what it is, checked in order:

1. OCSF (``class_uid`` and ``time``): passed through as it is; ``class_uid`` must be an
   integer and ``time`` a time (ms number, or ISO string, normalised to ms), otherwise
   the record is quarantined.
2. Windows-shaped (``EventID`` with ``Channel``/``SourceName``/``Hostname``, as in OTRF/Mordor
   exports, or Winlogbeat's ``winlog.event_id``): handed to
   ``garrison.normalize.windows.normalize_windows_dict`` (imported lazily; if that module
   is missing the record is quarantined saying so, never silently mis-mapped).
3. ECS (``@timestamp`` with an ``event`` or ``ecs`` object): mapped by ``event.category``
   (authentication -> 3002, process -> 1007, file -> 1001, network -> 4001, or 4003 with
   ``dns.question.name``, or 4002 with ``url.*``/``http.*``; else Base Event) with the common
   fields (source/destination ip+port, user.name, host.name, process.*, event.outcome).
4. API / cloud audit / model query logs -> API Activity 6003: CloudTrail (``eventName`` +
   ``eventSource``), GCP audit (``protoPayload.methodName``), Azure activity
   (``operationName`` + ``caller``/``identity``), and generic ``api``/``operation`` +
   ``actor``/``user``/``principal`` objects (model gateways): ``api.operation``,
   ``api.service.name``, ``actor.user.name``, ``src_endpoint.ip``,
   ``http_request.user_agent``, status (``errorCode``, HTTP status, ``outcome``).
5. Anything else -> Base Event 0 with the object in ``unmapped``.

``fields`` is the object flattened to dotted paths (``process.command_line``) plus every
top-level key with its value as is; lists are leaves.

Time: the first present of ``time``, ``timestamp``, ``@timestamp``, ``ts``, ``TimeCreated``,
``EventTime``, ``eventTime`` (ISO string or epoch s/ms/µs). Defined behaviour when there is
none: the record is kept with ``time`` 0 and ``metadata.time_missing`` = true; when a time
key is present but none parses: ``time`` 0 and ``metadata.time_invalid`` = the first bad
value (as text). Such events are stored and detectable, and flagged for anyone ordering by
time. (OCSF objects are stricter: an OCSF ``time`` that is not a time is quarantined.)
"""

from __future__ import annotations

from typing import Any

from garrison.core.errors import RecordError
from garrison.core.events import (
    CLASS_API_ACTIVITY,
    CLASS_AUTHENTICATION,
    CLASS_BASE_EVENT,
    CLASS_DNS_ACTIVITY,
    CLASS_FILE_ACTIVITY,
    CLASS_HTTP_ACTIVITY,
    CLASS_NETWORK_ACTIVITY,
    CLASS_PROCESS_ACTIVITY,
    RawRecord,
)
from garrison.normalize._ocsf_build import as_int, base_event, compact, endpoint, time_ms
from garrison.normalize.base import NORMALIZERS, Normalized

TIME_KEYS = ("time", "timestamp", "@timestamp", "ts", "TimeCreated", "EventTime", "eventTime")
MAX_DEPTH = 64
MAX_KEYS = 10_000


@NORMALIZERS.register("jsonl")
def normalize_jsonl(record: RawRecord) -> Normalized:
    obj = record.data
    if not isinstance(obj, dict):
        raise RecordError("JSON record is not an object")
    if "class_uid" in obj and "time" in obj:
        return _ocsf_passthrough(obj)
    if is_windows_shaped(obj):
        return _windows(obj)
    fields = flatten(obj)
    time, flags = pick_time(obj)
    if "@timestamp" in obj and (
        isinstance(obj.get("event"), dict) or isinstance(obj.get("ecs"), dict)
    ):
        ocsf = ecs_to_ocsf(obj, time)
    elif looks_like_api(obj):
        ocsf = api_activity(obj, time)
    else:
        ocsf = base_event(CLASS_BASE_EVENT, 99, "Other", time, product="JSON", log_name="jsonl")
        ocsf["unmapped"] = obj
    ocsf["metadata"].update(flags)
    ocsf = compact(ocsf) if ocsf["class_uid"] != CLASS_BASE_EVENT else ocsf
    return Normalized(ocsf["class_uid"], time, ocsf, fields)


def is_windows_shaped(obj: dict[str, Any]) -> bool:
    """OTRF/Mordor-style (``EventID`` + ``Channel``/``SourceName``/``Hostname``) or
    Winlogbeat-style (``winlog.event_id``) Windows events."""
    if "EventID" in obj and any(k in obj for k in ("Channel", "SourceName", "Hostname")):
        return True
    winlog = obj.get("winlog")
    return isinstance(winlog, dict) and "event_id" in winlog


def _windows(obj: dict[str, Any]) -> Normalized:
    try:
        from garrison.normalize.windows import normalize_windows_dict
    except ImportError as exc:
        raise RecordError(
            f"Windows-shaped JSON but garrison.normalize.windows is not available ({exc})"
        ) from exc
    result: Normalized = normalize_windows_dict(obj)
    return result


def _ocsf_passthrough(obj: dict[str, Any]) -> Normalized:
    class_uid = obj["class_uid"]
    if isinstance(class_uid, bool) or not isinstance(class_uid, int):
        raise RecordError(f"OCSF class_uid is not an integer: {str(class_uid)[:40]!r}")
    raw_time = obj["time"]
    if isinstance(raw_time, int | float) and not isinstance(raw_time, bool):
        time = int(raw_time)  # OCSF time is already ms since the epoch
        if not -(2**63) <= time < 2**63:
            raise RecordError("OCSF time is beyond 64-bit milliseconds")
    elif isinstance(raw_time, str):
        time = time_ms(raw_time)
    else:
        raise RecordError(f"OCSF time is not a time: {str(raw_time)[:40]!r}")
    ocsf = dict(obj)
    ocsf["time"] = time
    return Normalized(class_uid, time, ocsf, flatten(obj))


def pick_time(obj: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """(ms, metadata flags) by the rule in the module docstring."""
    bad: Any = None
    for key in TIME_KEYS:
        if key not in obj:
            continue
        value = obj[key]
        try:
            return time_ms(value), {}
        except RecordError:
            if bad is None:
                bad = value
    if bad is None:
        return 0, {"time_missing": True}
    return 0, {"time_invalid": str(bad)[:100]}


def flatten(obj: dict[str, Any]) -> dict[str, Any]:
    """Dotted paths of nested keys plus the top-level keys (iterative, capped)."""
    out: dict[str, Any] = dict(obj)
    stack: list[tuple[str, dict[str, Any], int]] = [
        (f"{k}.", v, 2) for k, v in obj.items() if isinstance(v, dict)
    ]
    count = len(obj)
    while stack:
        prefix, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RecordError(f"JSON nested deeper than {MAX_DEPTH} levels")
        for key, item in value.items():
            count += 1
            if count > MAX_KEYS:
                raise RecordError(f"JSON object has more than {MAX_KEYS} keys")
            name = f"{prefix}{key}"
            if isinstance(item, dict):
                stack.append((name + ".", item, depth + 1))
            else:
                out[name] = item
    return out


def _get(obj: dict[str, Any], dotted: str) -> Any:
    value: Any = obj
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _categories(obj: dict[str, Any]) -> set[str]:
    category = _get(obj, "event.category")
    if isinstance(category, str):
        return {category.lower()}
    if isinstance(category, list):
        return {str(c).lower() for c in category}
    return set()


def _ecs_class(obj: dict[str, Any]) -> tuple[int, int, str]:
    cats = _categories(obj)
    if "authentication" in cats:
        return CLASS_AUTHENTICATION, 1, "Logon"
    if "process" in cats:
        return CLASS_PROCESS_ACTIVITY, 1, "Launch"
    if "file" in cats:
        return CLASS_FILE_ACTIVITY, 99, "Other"
    if _get(obj, "dns.question.name") is not None:
        return CLASS_DNS_ACTIVITY, 1, "Query"
    if isinstance(obj.get("url"), dict) or isinstance(obj.get("http"), dict):
        return CLASS_HTTP_ACTIVITY, 99, "Other"
    if "network" in cats or isinstance(obj.get("network"), dict):
        return CLASS_NETWORK_ACTIVITY, 6, "Traffic"
    return CLASS_BASE_EVENT, 99, "Other"


def ecs_to_ocsf(obj: dict[str, Any], time: int) -> dict[str, Any]:
    """The common ECS fields in their OCSF places; the class from ``event.category``."""
    class_uid, activity, name = _ecs_class(obj)
    agent = _get(obj, "agent.type") or _get(obj, "observer.product") or "ECS"
    ocsf = base_event(
        class_uid,
        activity,
        name,
        time,
        product=str(agent),
        vendor=str(_get(obj, "observer.vendor") or "Elastic"),
        log_name=_get(obj, "event.dataset") or _get(obj, "event.module"),
    )
    ocsf["message"] = obj.get("message") if isinstance(obj.get("message"), str) else None
    ocsf["src_endpoint"] = endpoint(
        _get(obj, "source.ip"), _get(obj, "source.port"), _get(obj, "source.domain")
    )
    ocsf["dst_endpoint"] = endpoint(
        _get(obj, "destination.ip"), _get(obj, "destination.port"), _get(obj, "destination.domain")
    )
    ocsf["device"] = {"hostname": _get(obj, "host.name") or _get(obj, "host.hostname")}
    user = _get(obj, "user.name")
    if user is not None:
        ocsf["user"] = {"name": user}
        ocsf["actor"] = {"user": {"name": user}}
    outcome = _get(obj, "event.outcome")
    if outcome in ("success", "failure"):
        ocsf["status_id"], ocsf["status"] = (
            (1, "Success") if outcome == "success" else (2, "Failure")
        )
    if class_uid in (CLASS_PROCESS_ACTIVITY, CLASS_BASE_EVENT) and isinstance(
        obj.get("process"), dict
    ):
        ocsf["process"] = _ecs_process(obj)
    if class_uid == CLASS_FILE_ACTIVITY:
        ocsf["file"] = {"path": _get(obj, "file.path"), "name": _get(obj, "file.name")}
    if _get(obj, "dns.question.name") is not None:
        ocsf["query"] = {
            "hostname": _get(obj, "dns.question.name"),
            "type": _get(obj, "dns.question.type"),
        }
    if class_uid == CLASS_HTTP_ACTIVITY:
        ocsf["http_request"] = {
            "http_method": _get(obj, "http.request.method"),
            "user_agent": _get(obj, "user_agent.original"),
            "url": {
                "url_string": _get(obj, "url.full") or _get(obj, "url.original"),
                "hostname": _get(obj, "url.domain"),
                "path": _get(obj, "url.path"),
                "query_string": _get(obj, "url.query"),
            },
        }
        ocsf["http_response"] = {"code": as_int(_get(obj, "http.response.status_code"))}
    if class_uid == CLASS_NETWORK_ACTIVITY:
        ocsf["connection_info"] = {"protocol_name": _get(obj, "network.transport")}
    ocsf["unmapped"] = {"event": obj.get("event")}
    return ocsf


def _ecs_process(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "pid": as_int(_get(obj, "process.pid")),
        "name": _get(obj, "process.name"),
        "cmd_line": _get(obj, "process.command_line"),
        "file": {"path": _get(obj, "process.executable")},
        "parent_process": {
            "pid": as_int(_get(obj, "process.parent.pid")),
            "name": _get(obj, "process.parent.name"),
            "cmd_line": _get(obj, "process.parent.command_line"),
            "file": {"path": _get(obj, "process.parent.executable")},
        },
    }


_OP_KEYS = ("api", "operation")
_ACTOR_KEYS = ("actor", "user", "principal", "caller", "userIdentity")
_ACTIVITY_PREFIXES = (
    (1, "Create", ("create", "put", "post", "add", "run", "start", "invoke", "attach")),
    (2, "Read", ("get", "list", "describe", "read", "lookup", "search", "query", "head")),
    (3, "Update", ("update", "modify", "set", "patch", "change", "enable", "disable")),
    (4, "Delete", ("delete", "remove", "terminate", "detach", "revoke", "destroy")),
)


def looks_like_api(obj: dict[str, Any]) -> bool:
    """CloudTrail, GCP audit, Azure activity, or a generic API / model-query log object."""
    if "eventName" in obj and "eventSource" in obj:
        return True
    proto = obj.get("protoPayload")
    if isinstance(proto, dict) and "methodName" in proto:
        return True
    if "operationName" in obj and any(k in obj for k in ("caller", "identity", "callerIpAddress")):
        return True
    return any(k in obj for k in _OP_KEYS) and any(k in obj for k in _ACTOR_KEYS)


def _first(obj: dict[str, Any], *paths: str) -> Any:
    for path in paths:
        value = _get(obj, path)
        if value not in (None, "", {}, []):
            return value
    return None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _api_operation(obj: dict[str, Any]) -> str | None:
    op = _first(
        obj,
        "eventName",
        "protoPayload.methodName",
        "operationName.value",
        "operationName",
        "api.operation",
        "operation",
    )
    if op is None and isinstance(obj.get("api"), str):
        op = obj["api"]
    return _text(op)


def _api_actor(obj: dict[str, Any]) -> str | None:
    actor = _first(
        obj,
        "userIdentity.userName",
        "userIdentity.arn",
        "userIdentity.principalId",
        "protoPayload.authenticationInfo.principalEmail",
        "caller",
        "identity.claims.name",
        "actor.user.name",
        "actor.name",
        "actor.id",
        "user.name",
        "user.id",
        "principal",
    )
    if actor is None:
        actor = next((obj[k] for k in ("actor", "user") if isinstance(obj.get(k), str)), None)
    return _text(actor)


def _api_ok(obj: dict[str, Any]) -> bool | None:
    if obj.get("errorCode"):
        return False
    if "eventName" in obj and "eventSource" in obj:
        return True
    code = _get(obj, "protoPayload.status.code")
    if isinstance(code, int) and not isinstance(code, bool):
        return code == 0
    for key in ("status_code", "status", "outcome", "result", "resultType"):
        value = _get(obj, key) if key != "status" else obj.get("status")
        if isinstance(value, bool):
            return value
        number = as_int(value)
        if number is not None and 100 <= number <= 599:
            return number < 400
        if isinstance(value, str):
            low = value.lower()
            if low in ("success", "succeeded", "ok", "allowed", "allow"):
                return True
            if low in ("failure", "failed", "error", "denied", "deny", "blocked"):
                return False
    return None


def api_activity(obj: dict[str, Any], time: int) -> dict[str, Any]:
    """An API Activity (6003) object for a cloud audit / API / model-query log object."""
    operation = _api_operation(obj)
    activity_id, activity_name = 99, "Other"
    low = (operation or "").lower().rsplit(".", 1)[-1].rsplit("/", 1)[-1]
    for number, name, prefixes in _ACTIVITY_PREFIXES:
        if low.startswith(prefixes):
            activity_id, activity_name = number, name
            break
    source = _text(
        _first(
            obj,
            "eventSource",
            "protoPayload.serviceName",
            "resourceProvider.value",
            "resourceProvider",
            "api.service.name",
            "service",
            "model",
        )
    )
    product = "AWS CloudTrail" if "eventSource" in obj else "API"
    ocsf = base_event(
        CLASS_API_ACTIVITY, activity_id, activity_name, time, product=product, log_name="api"
    )
    ocsf["api"] = {
        "operation": operation,
        "service": {"name": source},
        "request": {
            "uid": _text(_first(obj, "requestID", "request_id", "requestId", "correlationId"))
        },
        "response": {
            "error": _text(obj.get("errorCode")),
            "message": _text(obj.get("errorMessage")),
        },
    }
    actor = _api_actor(obj)
    ocsf["actor"] = {"user": {"name": actor}}
    ocsf["src_endpoint"] = endpoint(
        _first(
            obj,
            "sourceIPAddress",
            "protoPayload.requestMetadata.callerIp",
            "callerIpAddress",
            "src_ip",
            "source_ip",
            "client_ip",
            "ip",
            "remote_addr",
            "src_endpoint.ip",
        )
    )
    ocsf["http_request"] = {
        "user_agent": _text(
            _first(
                obj,
                "userAgent",
                "protoPayload.requestMetadata.callerSuppliedUserAgent",
                "user_agent",
                "http_request.user_agent",
            )
        )
    }
    ok = _api_ok(obj)
    if ok is not None:
        ocsf["status_id"], ocsf["status"] = (1, "Success") if ok else (2, "Failure")
    region = _text(_first(obj, "awsRegion", "region"))
    if region or "eventSource" in obj:
        ocsf["cloud"] = {"provider": "AWS" if "eventSource" in obj else None, "region": region}
    ocsf["unmapped"] = {
        k: obj.get(k) for k in ("model", "eventType", "recipientAccountId") if k in obj
    }
    return ocsf
