"""Reading one connection (who talked to whom, when, how much) off an event.

Connection logs reach the detector in several shapes: OCSF Network/HTTP Activity from the
normalizers, Zeek's own field names in ``Event.fields`` (``id.orig_h``, ``orig_bytes``),
ECS-style JSON (``source.ip``, ``destination.port``). Each concept is looked up along a
short list of paths, first hit wins; every value is attacker-controlled text, so parsing
is defensive and an event that names no source or destination is simply skipped.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from garrison.core.events import (
    CLASS_DNS_ACTIVITY,
    CLASS_HTTP_ACTIVITY,
    CLASS_NETWORK_ACTIVITY,
    CLASS_SSH_ACTIVITY,
    Event,
)
from garrison.core.paths import dig_parts as _dig_parts

#: Classes whose events are connections; DNS query logs are left to the DNS detectors.
NETWORK_CLASSES = frozenset({CLASS_NETWORK_ACTIVITY, CLASS_HTTP_ACTIVITY, CLASS_SSH_ACTIVITY})

_SRC_IP = ("ocsf:src_endpoint.ip", "id.orig_h", "source.ip", "src_ip", "src", "SourceIp")
_DST_IP = (
    "ocsf:dst_endpoint.ip",
    "id.resp_h",
    "destination.ip",
    "dst_ip",
    "dest_ip",
    "DestinationIp",
)
_DST_PORT = (
    "ocsf:dst_endpoint.port",
    "id.resp_p",
    "destination.port",
    "dst_port",
    "dest_port",
    "DestinationPort",
)
_SRC_PORT = ("ocsf:src_endpoint.port", "id.orig_p", "source.port", "src_port")
_PROTO = ("proto", "ocsf:connection_info.protocol_name", "network.transport", "protocol")
_SIZE = (
    "orig_bytes",
    "request_body_len",
    "ocsf:traffic.bytes_out",
    "source.bytes",
    "bytes_out",
    "orig_ip_bytes",
    "ocsf:traffic.bytes",
)
_HOST = (
    "ocsf:http_request.url.hostname",
    "ocsf:tls.sni",
    "host",
    "server_name",
    "url.domain",
    "destination.domain",
    "tls.client.server_name",
    "http.host",
)
_SRC_NAME = ("ocsf:src_endpoint.hostname", "source.domain", "src_host")
_SERVICE = ("service", "network.protocol", "app_proto")
_LOCAL_ORIG = ("local_orig",)
_LOCAL_RESP = ("local_resp",)
_UNSET = frozenset({"", "-", "(empty)", "none", "null", "nan"})


@dataclass(slots=True, frozen=True)
class Connection:
    time: int
    src: str
    dst: str | None
    host: str | None
    port: int | None
    size: float | None
    #: Transport protocol in lower case ("tcp", "udp", "icmp"), "" when unknown.
    proto: str
    #: For ICMP, Zeek puts the message type here (and the code in the destination port).
    src_port: int | None
    service: str
    src_name: str | None
    #: False when the log says the connection came from outside (Zeek ``local_orig=F``).
    local_orig: bool | None
    local_resp: bool | None = None


@lru_cache(maxsize=256)
def _compiled(paths: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """("ocsf", parts) or ("fields", (name,)) per path: parsed once, not per event."""
    return tuple(
        ("ocsf", tuple(p[5:].split("."))) if p.startswith("ocsf:") else ("fields", (p,))
        for p in paths
    )


def lookup(event: Event, paths: tuple[str, ...]) -> Any:
    """First present, set value along ``paths`` (``ocsf:`` prefix = inside the OCSF object)."""
    fields = event.fields if isinstance(event.fields, dict) else {}
    ocsf = event.ocsf if isinstance(event.ocsf, dict) else {}
    for where, parts in _compiled(paths):
        value = _dig_parts(ocsf, parts) if where == "ocsf" else fields.get(parts[0])
        if value is None or isinstance(value, (dict, list)):
            continue
        if isinstance(value, str) and value.strip().lower() in _UNSET:
            continue
        return value
    return None


def as_ip(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    return _ip_text(str(value))


@lru_cache(maxsize=65_536)
def _ip_text(value: str) -> str | None:
    """Canonical IP text (cached: the same few thousand addresses repeat all day)."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return str(ipaddress.ip_address(text.split("%")[0]))
    except ValueError:
        return None


def as_int(value: Any) -> int | None:
    try:
        number = int(float(str(value).strip()))
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 <= number <= 2**63 - 1 else None


def as_size(value: Any) -> float | None:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def as_host(value: Any) -> str | None:
    """Lower-cased host name without port or trailing dot; IP literals are not host names."""
    if value is None:
        return None
    text = str(value).strip().lower().rstrip(".")
    if text.startswith("[") and "]" in text:
        return None
    if text.count(":") == 1:
        text = text.split(":", 1)[0]
    if not text or len(text) > 253 or any(c.isspace() for c in text) or "/" in text:
        return None
    if as_ip(text) is not None:
        return None
    return text


def _as_bool(value: Any) -> bool | None:
    text = str(value).strip().lower() if value is not None else ""
    if text in ("t", "true", "1", "yes"):
        return True
    if text in ("f", "false", "0", "no"):
        return False
    return None


def connection_of(event: Event) -> Connection | None:
    """The connection an event describes, or None when it names no source and peer."""
    fields = event.fields if isinstance(event.fields, dict) else {}
    if event.class_uid not in NETWORK_CLASSES and "id.orig_h" not in fields:
        return None
    if event.class_uid == CLASS_DNS_ACTIVITY:
        return None
    src = as_ip(lookup(event, _SRC_IP))
    if src is None:
        return None
    dst = as_ip(lookup(event, _DST_IP))
    host = as_host(lookup(event, _HOST))
    if dst is None and host is None:
        return None
    service = lookup(event, _SERVICE)
    name = lookup(event, _SRC_NAME)
    return Connection(
        time=as_int(event.time) or 0,
        src=src,
        dst=dst,
        host=host,
        port=as_int(lookup(event, _DST_PORT)),
        size=as_size(lookup(event, _SIZE)),
        proto=str(lookup(event, _PROTO) or "").lower()[:16],
        src_port=as_int(lookup(event, _SRC_PORT)),
        service=str(service).lower()[:32] if service is not None else "",
        src_name=str(name).lower()[:128] if name is not None else None,
        local_orig=_as_bool(lookup(event, _LOCAL_ORIG)),
        local_resp=_as_bool(lookup(event, _LOCAL_RESP)),
    )
