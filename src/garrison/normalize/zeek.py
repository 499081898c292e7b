"""Zeek records (TSV or JSON writer, format ``zeek``) -> OCSF, by the log's path.

=============  =======================  ==========================================
``#path``      OCSF class               main attributes
=============  =======================  ==========================================
conn           Network Activity 4001    src/dst endpoint, connection_info, traffic,
                                        duration (ms), app_name (Zeek ``service``)
dns            DNS Activity 4003        query.hostname/type/class, rcode, answers
http           HTTP Activity 4002       http_request (method, url, user_agent,
                                        referrer), http_response.code
ssl            Network Activity 4001    tls.sni (``server_name``), version, cipher
ssh            SSH Activity 4007        status from ``auth_success``, protocol_ver,
                                        client/server banners in ``unmapped``
anything else  Base Event 0             the record's fields in ``unmapped``
=============  =======================  ==========================================

Every event: ``activity_id`` 6 (Traffic) for the network classes and 99 (Other) for Base
Events, ``metadata.log_name`` = the path, ``metadata.uid`` = Zeek's ``uid``. ``time`` is ``ts``
in ms, kept as given even when it is a small capture-relative number (Stratosphere scenario
files start at 13.18 s): nothing is rejected for being out of a plausible range.
``fields`` is the record's flat Zeek fields (``id.orig_h``, ``query`` ...); Stratosphere labels
never reach it (the source moved them to ``meta["labels"]``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from garrison.core.errors import RecordError
from garrison.core.events import (
    CLASS_BASE_EVENT,
    CLASS_DNS_ACTIVITY,
    CLASS_HTTP_ACTIVITY,
    CLASS_NETWORK_ACTIVITY,
    CLASS_SSH_ACTIVITY,
    RawRecord,
)
from garrison.ingest.zeek import LABEL_COLUMNS, infer_zeek_path
from garrison.normalize._ocsf_build import (
    as_int,
    base_event,
    compact,
    endpoint,
    present,
    put_present,
    seconds_to_ms,
    set_status,
    time_ms,
)
from garrison.normalize.base import NORMALIZERS, Normalized

_HTTP_ACTIVITY = {
    "CONNECT": 1,
    "DELETE": 2,
    "GET": 3,
    "HEAD": 4,
    "OPTIONS": 5,
    "POST": 6,
    "PUT": 7,
    "TRACE": 8,
}

_LABELS = frozenset(LABEL_COLUMNS)

Builder = Callable[[dict[str, Any], int, str], dict[str, Any]]


@NORMALIZERS.register("zeek")
def normalize_zeek(record: RawRecord) -> Normalized:
    data = record.data
    if not isinstance(data, dict):
        raise RecordError("Zeek record is not a field mapping")
    if _LABELS.isdisjoint(data):
        fields = dict(data)
    else:
        fields = {k: v for k, v in data.items() if k not in LABEL_COLUMNS}
    if "ts" not in fields:
        raise RecordError("Zeek record without ts")
    time = time_ms(fields["ts"])
    path = str(record.meta.get("path") or infer_zeek_path(fields))
    ocsf = _BUILDERS.get(path, _other)(fields, time, path)
    return Normalized(ocsf["class_uid"], time, ocsf, fields)


def _common(
    class_uid: int, activity_id: int, activity_name: str, d: dict[str, Any], time: int, path: str
) -> dict[str, Any]:
    ocsf = base_event(class_uid, activity_id, activity_name, time, product="Zeek", log_name=path)
    uid = d.get("uid")
    if uid is not None:
        ocsf["metadata"]["uid"] = uid
    put_present(ocsf, "src_endpoint", endpoint(d.get("id.orig_h"), d.get("id.orig_p")))
    put_present(ocsf, "dst_endpoint", endpoint(d.get("id.resp_h"), d.get("id.resp_p")))
    return ocsf


def _unmapped(d: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any] | None:
    out = {k: v for k in names if (v := d.get(k)) is not None}
    return out or None


def _sum(a: int | None, b: int | None) -> int | None:
    return None if a is None and b is None else (a or 0) + (b or 0)


_CONN_UNMAPPED = ("conn_state", "history", "local_orig", "local_resp", "missed_bytes")


def _conn(d: dict[str, Any], time: int, path: str) -> dict[str, Any]:
    ocsf = _common(CLASS_NETWORK_ACTIVITY, 6, "Traffic", d, time, path)
    put_present(ocsf, "connection_info", present(protocol_name=d.get("proto"), uid=d.get("uid")))
    out_b, in_b = as_int(d.get("orig_bytes")), as_int(d.get("resp_bytes"))
    out_p, in_p = as_int(d.get("orig_pkts")), as_int(d.get("resp_pkts"))
    traffic = present(
        bytes_out=out_b,
        bytes_in=in_b,
        bytes=_sum(out_b, in_b),
        packets_out=out_p,
        packets_in=in_p,
        packets=_sum(out_p, in_p),
    )
    put_present(ocsf, "traffic", traffic)
    put_present(ocsf, "duration", seconds_to_ms(d.get("duration")))
    put_present(ocsf, "app_name", d.get("service"))
    put_present(ocsf, "unmapped", _unmapped(d, _CONN_UNMAPPED))
    return ocsf


def _dns(d: dict[str, Any], time: int, path: str) -> dict[str, Any]:
    ocsf = _common(CLASS_DNS_ACTIVITY, 6, "Traffic", d, time, path)
    put_present(ocsf, "connection_info", present(protocol_name=d.get("proto"), uid=d.get("uid")))
    query = present(
        hostname=d.get("query"),
        type=d.get("qtype_name"),
        **{"class": d.get("qclass_name")},
        packet_uid=as_int(d.get("trans_id")),
    )
    put_present(ocsf, "query", query)
    rcode = as_int(d.get("rcode"))
    if rcode is not None:
        ocsf["rcode_id"] = rcode if 0 <= rcode <= 23 else 99
    put_present(ocsf, "rcode", d.get("rcode_name"))
    answers = d.get("answers")
    ttls = d.get("TTLs")
    if isinstance(answers, list):
        ttl_list = ttls if isinstance(ttls, list) else []
        ocsf["answers"] = [
            _answer(str(a), ttl_list[i] if i < len(ttl_list) else None)
            for i, a in enumerate(answers)
            if a is not None
        ]
    put_present(ocsf, "unmapped", _unmapped(d, ("rtt", "rejected")))
    return ocsf


def _answer(rdata: str, ttl: Any) -> dict[str, Any]:
    if isinstance(ttl, int | float):
        seconds = as_int(ttl)
        if seconds is not None:
            return {"rdata": rdata, "ttl": seconds}
    return {"rdata": rdata}


def _http(d: dict[str, Any], time: int, path: str) -> dict[str, Any]:
    method = d.get("method")
    activity = _HTTP_ACTIVITY.get(str(method).upper(), 99) if method else 0
    ocsf = _common(CLASS_HTTP_ACTIVITY, activity, str(method or "Unknown"), d, time, path)
    put_present(ocsf, "connection_info", present(protocol_name=d.get("proto"), uid=d.get("uid")))
    uri = d.get("uri")
    host = d.get("host")
    url_path = query_string = url_string = None
    if isinstance(uri, str):
        url_path, _, query = uri.partition("?")
        query_string = query or None
        url_string = f"http://{host}{uri}" if host and uri.startswith("/") else uri
    url = present(
        hostname=host,
        port=as_int(d.get("id.resp_p")),
        path=url_path,
        query_string=query_string,
        url_string=url_string,
    )
    request = present(
        http_method=method,
        url=url,
        user_agent=d.get("user_agent"),
        referrer=d.get("referrer"),
        version=d.get("version"),
        length=as_int(d.get("request_body_len")),
    )
    put_present(ocsf, "http_request", request)
    response = present(
        code=as_int(d.get("status_code")),
        status=d.get("status_msg"),
        length=as_int(d.get("response_body_len")),
    )
    put_present(ocsf, "http_response", response)
    put_present(ocsf, "unmapped", _unmapped(d, ("trans_depth", "username")))
    return ocsf


_SSL_UNMAPPED = (
    "established",
    "resumed",
    "validation_status",
    "next_protocol",
    "curve",
    "last_alert",
)


def _ssl(d: dict[str, Any], time: int, path: str) -> dict[str, Any]:
    ocsf = _common(CLASS_NETWORK_ACTIVITY, 6, "Traffic", d, time, path)
    put_present(ocsf, "connection_info", present(protocol_name="tcp", uid=d.get("uid")))
    ja3, ja3s = d.get("ja3"), d.get("ja3s")
    tls = present(
        sni=d.get("server_name"),
        version=d.get("version"),
        cipher=d.get("cipher"),
        certificate=present(subject=d.get("subject"), issuer=d.get("issuer")),
        ja3_hash={"value": ja3} if ja3 else None,
        ja3s_hash={"value": ja3s} if ja3s else None,
    )
    put_present(ocsf, "tls", tls)
    ocsf["app_name"] = "ssl"
    put_present(ocsf, "unmapped", _unmapped(d, _SSL_UNMAPPED))
    return ocsf


_SSH_UNMAPPED = (
    "auth_success",
    "auth_attempts",
    "client",
    "server",
    "cipher_alg",
    "kex_alg",
    "host_key",
)


def _ssh(d: dict[str, Any], time: int, path: str) -> dict[str, Any]:
    success = d.get("auth_success")
    ok = success if isinstance(success, bool) else None
    activity = {True: (1, "Open"), False: (4, "Fail"), None: (6, "Traffic")}[ok]
    ocsf = _common(CLASS_SSH_ACTIVITY, activity[0], activity[1], d, time, path)
    info = present(protocol_name="tcp", uid=d.get("uid"), direction=d.get("direction"))
    put_present(ocsf, "connection_info", info)
    set_status(ocsf, ok)
    version = d.get("version")
    put_present(ocsf, "protocol_ver", None if version is None else str(version))
    if d.get("hassh"):
        ocsf["client_hassh"] = {"fingerprint": {"value": d.get("hassh")}}
    if d.get("hasshServer"):
        ocsf["server_hassh"] = {"fingerprint": {"value": d.get("hasshServer")}}
    put_present(ocsf, "unmapped", _unmapped(d, _SSH_UNMAPPED))
    return ocsf


def _other(d: dict[str, Any], time: int, path: str) -> dict[str, Any]:
    ocsf = _common(CLASS_BASE_EVENT, 99, path, d, time, path)
    message = d.get("msg") if path == "notice" else d.get("name") if path == "weird" else None
    if isinstance(message, str):
        ocsf["message"] = message
    put_present(ocsf, "unmapped", compact({k: v for k, v in d.items() if k != "ts"}))
    return ocsf


_BUILDERS: dict[str, Builder] = {
    "conn": _conn,
    "dns": _dns,
    "http": _http,
    "ssl": _ssl,
    "ssh": _ssh,
}
