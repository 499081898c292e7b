"""Reading one outbound transfer (who sent how much to which outside address) off an event.

Only connection records with a *directional* byte count are read: Zeek ``conn.log``
(``orig_bytes`` / ``resp_bytes``), OCSF Network Activity (``traffic.bytes_out`` /
``traffic.bytes_in``), ECS-style flows (``source.bytes`` / ``destination.bytes``). A total
without direction (OCSF ``traffic.bytes``) says nothing about an upload, and application
logs that describe the same connection again (Zeek ``http.log``'s ``request_body_len``)
would count it twice, so neither is read.

Direction: Zeek's ``local_orig`` / ``local_resp`` decide when they differ (``T``/``F`` is
outbound); when both are true the connection stayed inside; otherwise (Zeek without
``Site::local_nets``, other sources) a private source talking to a global address is
outbound. Multicast, broadcast and reserved destinations never are.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from garrison.core.events import Event
from garrison.detect.ml.beacon.connections import (
    Connection,
    as_size,
    connection_of,
    lookup,
)
from garrison.detect.ml.beacon.suppress import ip_class

_BYTES_OUT = (
    "orig_bytes",
    "ocsf:traffic.bytes_out",
    "source.bytes",
    "bytes_out",
    "client.bytes",
    "orig_ip_bytes",
)
_BYTES_IN = (
    "resp_bytes",
    "ocsf:traffic.bytes_in",
    "destination.bytes",
    "bytes_in",
    "server.bytes",
    "resp_ip_bytes",
)
#: A byte count above this is a parsing accident or a forged record, not a transfer (1 PB).
MAX_BYTES = 10**15


@dataclass(slots=True, frozen=True)
class Transfer:
    time: int
    src: str
    dst: str
    port: int | None
    bytes_out: int
    #: Bytes the destination sent back (0 when the record does not say).
    bytes_in: int
    service: str
    src_name: str | None


def transfer_of(event: Event) -> Transfer | None:
    """The outbound transfer an event describes, or None (not a connection, not outbound,
    or no directional byte count)."""
    conn = connection_of(event)
    if conn is None or conn.dst is None or conn.time <= 0:
        return None
    if not is_outbound(conn):
        return None
    out = as_size(lookup(event, _BYTES_OUT))
    if out is None or out > MAX_BYTES:
        return None
    back = as_size(lookup(event, _BYTES_IN))
    return Transfer(
        time=conn.time,
        src=conn.src,
        dst=conn.dst,
        port=conn.port,
        bytes_out=int(out),
        bytes_in=int(back) if back is not None and back <= MAX_BYTES else 0,
        service=conn.service,
        src_name=conn.src_name,
    )


def is_outbound(conn: Connection) -> bool:
    """From inside the organisation to an address outside it (see the module notes)."""
    dst = conn.dst
    if dst is None or ip_class(dst) is not None:
        return False
    if conn.local_orig is not None and conn.local_resp is not None:
        if conn.local_orig != conn.local_resp:
            return conn.local_orig
        if conn.local_orig:
            return False  # both local: internal traffic
    return _private(conn.src) and _global(dst)


@lru_cache(maxsize=65_536)
def _private(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_private
    except ValueError:
        return False


@lru_cache(maxsize=65_536)
def _global(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_global
    except ValueError:
        return False
