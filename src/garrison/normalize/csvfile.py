"""CSV rows (format ``csv``) -> OCSF, by what the header says the columns are.

Column names are compared lower-cased with everything but letters and digits removed
(``src_ip``, ``Source IP`` and ``srcip`` are the same). The class, decided once per header:

1. a user column and an authentication hint (``auth_type``, ``logon_type``,
   ``success/failure`` ...) -> Authentication 3002;
2. source/destination *IP* columns (``src_ip``, ``dst_ip``, ``id.orig_h`` ...) ->
   Network Activity 4001 (ports, protocol and byte counts when present);
3. a user column with source and destination host columns (``time,user,src,dst``; the LANL
   red-team export ``tstamp,userdomain,src,dst``) -> Authentication 3002 with the user, the
   source host in ``src_endpoint`` and the destination in ``dst_endpoint``/``device``;
4. otherwise Base Event 0 with the row in ``unmapped``.

A value in a host column that is an IP address goes to ``ip``, otherwise to ``hostname``;
``user@domain`` is split into ``user.name`` and ``user.domain``. Time: the first time-named
column (``time``, ``timestamp``, ``tstamp``, ``ts``, ``datetime``, ``date``, ``eventtime``),
ISO or epoch, kept as given (LANL times are seconds from the start of the data set, so
they land in January 1970: that is what the data says). No time column or an empty one:
time 0 with ``metadata.time_missing``; an unparseable one: time 0 with
``metadata.time_invalid`` (same rule as JSON lines). ``fields`` is the row as read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from garrison.core.errors import RecordError
from garrison.core.events import (
    CLASS_AUTHENTICATION,
    CLASS_BASE_EVENT,
    CLASS_NETWORK_ACTIVITY,
    RawRecord,
)
from garrison.normalize._ocsf_build import (
    as_int,
    base_event,
    compact,
    endpoint,
    is_ip,
    set_status,
    time_ms,
)
from garrison.normalize.base import NORMALIZERS, Normalized

_TIME = ("time", "timestamp", "tstamp", "ts", "datetime", "date", "eventtime")
_USER = (
    "user",
    "username",
    "userdomain",
    "usr",
    "account",
    "accountname",
    "srcuser",
    "sourceuser",
    "userprincipalname",
)
_SRC_HOST = (
    "src",
    "source",
    "srchost",
    "sourcehost",
    "srccomputer",
    "sourcecomputer",
    "srcname",
    "client",
    "clienthost",
)
_DST_HOST = (
    "dst",
    "dest",
    "destination",
    "dsthost",
    "desthost",
    "destinationhost",
    "dstcomputer",
    "destinationcomputer",
    "server",
    "target",
    "targethost",
)
_SRC_IP = ("srcip", "sourceip", "sourceaddress", "srcaddr", "clientip", "idorigh", "saddr", "ipsrc")
_DST_IP = (
    "dstip",
    "destip",
    "destinationip",
    "dstaddr",
    "destinationaddress",
    "idresph",
    "daddr",
    "ipdst",
    "serverip",
)
_SRC_PORT = ("srcport", "sport", "sourceport", "idorigp", "clientport")
_DST_PORT = ("dstport", "dport", "destport", "destinationport", "idrespp", "serverport")
_PROTO = ("proto", "protocol", "transport", "protocoltype")
_BYTES_OUT = ("srcbytes", "bytesout", "origbytes", "sentbytes", "bytessent")
_BYTES_IN = ("dstbytes", "bytesin", "respbytes", "receivedbytes", "bytesreceived")
_AUTH_HINT = (
    "authtype",
    "authenticationtype",
    "logontype",
    "authorientation",
    "authenticationorientation",
    "successfailure",
    "authresult",
    "authpackage",
)
_STATUS = ("successfailure", "outcome", "result", "status", "success", "authresult")

_NON_ALNUM = re.compile(r"[^a-z0-9]")


@dataclass(frozen=True, slots=True)
class _Columns:
    """Which header names play which role (None when absent)."""

    class_uid: int
    time: str | None
    user: str | None
    src: str | None
    dst: str | None
    src_ip: str | None
    dst_ip: str | None
    src_port: str | None
    dst_port: str | None
    proto: str | None
    bytes_out: str | None
    bytes_in: str | None
    status: str | None


@lru_cache(maxsize=256)
def classify(header: tuple[str, ...]) -> _Columns:
    """The role of each column for one header (cached: one header per file)."""
    canon = {_NON_ALNUM.sub("", name.lower()): name for name in reversed(header)}

    def find(names: tuple[str, ...]) -> str | None:
        return next((canon[n] for n in names if n in canon), None)

    user = find(_USER)
    src, dst = find(_SRC_HOST), find(_DST_HOST)
    src_ip, dst_ip = find(_SRC_IP), find(_DST_IP)
    if user and find(_AUTH_HINT):
        class_uid = CLASS_AUTHENTICATION
    elif src_ip or dst_ip:
        class_uid = CLASS_NETWORK_ACTIVITY
    elif user and src and dst:
        class_uid = CLASS_AUTHENTICATION
    else:
        class_uid = CLASS_BASE_EVENT
    return _Columns(
        class_uid,
        find(_TIME),
        user,
        src,
        dst,
        src_ip,
        dst_ip,
        find(_SRC_PORT),
        find(_DST_PORT),
        find(_PROTO),
        find(_BYTES_OUT),
        find(_BYTES_IN),
        find(_STATUS),
    )


@NORMALIZERS.register("csv")
def normalize_csv(record: RawRecord) -> Normalized:
    row = record.data
    if not isinstance(row, dict):
        raise RecordError("CSV record is not a row mapping")
    cols = classify(tuple(str(k) for k in row))
    time, flags = _time(row, cols.time)
    if cols.class_uid == CLASS_AUTHENTICATION:
        ocsf = _auth(row, cols, time)
    elif cols.class_uid == CLASS_NETWORK_ACTIVITY:
        ocsf = _network(row, cols, time)
    else:
        ocsf = base_event(CLASS_BASE_EVENT, 99, "Other", time, product="CSV", log_name="csv")
        ocsf["unmapped"] = dict(row)
    ocsf["metadata"].update(flags)
    if cols.class_uid != CLASS_BASE_EVENT:
        ocsf = compact(ocsf)
    return Normalized(cols.class_uid, time, ocsf, dict(row))


def _time(row: dict[str, Any], column: str | None) -> tuple[int, dict[str, Any]]:
    value = row.get(column) if column else None
    if value is None or str(value).strip() == "":
        return 0, {"time_missing": True}
    try:
        return time_ms(str(value)), {}
    except RecordError:
        return 0, {"time_invalid": str(value)[:100]}


def _cell(row: dict[str, Any], column: str | None) -> str | None:
    if column is None:
        return None
    value = str(row.get(column, "")).strip()
    return value or None


def _host_endpoint(host: str | None, ip: str | None, port: str | None) -> dict[str, Any]:
    if host and is_ip(host) and not ip:
        ip, host = host, None
    return endpoint(ip, port, host)


def _ok(value: str | None) -> bool | None:
    if value is None:
        return None
    low = value.lower()
    if low in ("success", "succeeded", "true", "1", "ok", "allowed", "pass"):
        return True
    if low in ("fail", "failure", "failed", "false", "0", "denied", "error"):
        return False
    return None


def _auth(row: dict[str, Any], cols: _Columns, time: int) -> dict[str, Any]:
    ocsf = base_event(CLASS_AUTHENTICATION, 1, "Logon", time, product="CSV", log_name="csv")
    raw_user = _cell(row, cols.user)
    name, domain = raw_user, None
    if raw_user and "@" in raw_user:
        name, _, domain = raw_user.partition("@")
    elif raw_user and "\\" in raw_user:
        domain, _, name = raw_user.partition("\\")
    ocsf["user"] = {"name": name, "domain": domain}
    ocsf["actor"] = {"user": {"name": name, "domain": domain}}
    ocsf["src_endpoint"] = _host_endpoint(
        _cell(row, cols.src), _cell(row, cols.src_ip), _cell(row, cols.src_port)
    )
    dst = _host_endpoint(_cell(row, cols.dst), _cell(row, cols.dst_ip), _cell(row, cols.dst_port))
    ocsf["dst_endpoint"] = dst
    ocsf["device"] = {"hostname": dst.get("hostname"), "ip": dst.get("ip")}
    ok = _ok(_cell(row, cols.status))
    if ok is not None:
        set_status(ocsf, ok)
    return ocsf


def _network(row: dict[str, Any], cols: _Columns, time: int) -> dict[str, Any]:
    ocsf = base_event(CLASS_NETWORK_ACTIVITY, 6, "Traffic", time, product="CSV", log_name="csv")
    ocsf["src_endpoint"] = _host_endpoint(
        _cell(row, cols.src), _cell(row, cols.src_ip), _cell(row, cols.src_port)
    )
    ocsf["dst_endpoint"] = _host_endpoint(
        _cell(row, cols.dst), _cell(row, cols.dst_ip), _cell(row, cols.dst_port)
    )
    ocsf["connection_info"] = {"protocol_name": _cell(row, cols.proto)}
    out_b, in_b = as_int(_cell(row, cols.bytes_out)), as_int(_cell(row, cols.bytes_in))
    ocsf["traffic"] = {"bytes_out": out_b, "bytes_in": in_b}
    return ocsf
