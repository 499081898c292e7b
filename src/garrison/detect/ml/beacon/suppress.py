"""Benign beacons: which regular traffic is a service, not command and control.

Real networks are full of perfectly periodic traffic: NTP, DNS to the resolvers, update and
licence checks, mDNS/LLMNR/SSDP chatter to multicast groups, DHCP to broadcast. Scoring it
would bury the analyst, so a pair is suppressed (counted in the detector's stats with its
reason, never reported) when:

* its destination is not a unicast host on another machine: multicast, broadcast
  (``255.255.255.255`` and, as a heuristic without netmasks, IPv4 ``x.x.x.255``),
  link-local, loopback, unspecified or reserved;
* its source is link-local, multicast or unspecified (router advertisements, neighbour
  discovery), or it is an ICMP control message rather than an echo (Zeek records
  unreachables and redirects as "connections" too);
* it goes to a local-network service port (DNS 53 / DoT 853 -- i.e. a resolver -- NTP 123,
  NetBIOS 137/138, DHCP 67/68, SSDP 1900, mDNS 5353, LLMNR 5355) or to a configured
  resolver / allow-listed address, network or domain suffix;
* the log says the connection came in from outside (Zeek ``local_orig=F, local_resp=T``),
  or, when the log does not say, a public source talks to a private destination: inbound
  scanning and brute force are other detectors' business, beacons call out;
* many sources beacon to the same destination (``popular``): one host calling home every
  minute is suspicious, fifty hosts doing it is a service.

The price is stated plainly: C2 over DNS or NTP, or to a popular cloud front, is not seen by
this detector (the DNS-tunnelling detector covers the first).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

#: ICMP message types that carry data (echo request / reply, v4 and v6); every other
#: type is a network control message (unreachable, redirect, neighbour discovery ...).
ICMP_DATA_TYPES = frozenset({0, 8, 128, 129})

#: Ports of local-network and infrastructure services that beacon by design.
SERVICE_PORTS = frozenset({53, 67, 68, 123, 137, 138, 853, 1900, 5353, 5355})


@dataclass(slots=True)
class Suppressor:
    resolvers: frozenset[str] = frozenset()
    allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    allow_domains: tuple[str, ...] = ()
    service_ports: frozenset[int] = SERVICE_PORTS
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_options(
        cls,
        resolvers: Iterable[str] = (),
        allow: Iterable[str] = (),
        service_ports: Iterable[int] | None = None,
    ) -> Suppressor:
        nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        domains: list[str] = []
        for item in allow:
            text = str(item).strip().lower()
            try:
                nets.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                if text:
                    domains.append(text.lstrip("*").lstrip("."))
        ports = (
            frozenset(int(p) for p in service_ports) if service_ports is not None else SERVICE_PORTS
        )
        return cls(
            resolvers=frozenset(str(r) for r in resolvers),
            allow_networks=tuple(nets),
            allow_domains=tuple(domains),
            service_ports=ports,
        )

    def destination_reason(self, dst: str | None, host: str | None, port: int | None) -> str | None:
        """Why traffic to this destination is not a beacon candidate, or None."""
        if port is not None and port in self.service_ports:
            return "service-port"
        if dst is not None:
            if dst in self.resolvers:
                return "resolver"
            reason = ip_class(dst)
            if reason:
                return reason
            if self.allow_networks:
                addr = ipaddress.ip_address(dst)
                if any(addr in net for net in self.allow_networks):
                    return "allow-listed"
        if host is not None and any(
            host == d or host.endswith("." + d) for d in self.allow_domains
        ):
            return "allow-listed"
        return None

    def connection_reason(self, src: str, proto: str, icmp_type: int | None) -> str | None:
        """Why a connection is not application traffic from one host, or None."""
        kind = ip_class(src)
        if kind in ("link-local", "multicast", "unspecified", "broadcast", "invalid"):
            return f"{kind}-source"
        if proto.startswith("icmp") and icmp_type is not None and icmp_type not in ICMP_DATA_TYPES:
            return "icmp-control"
        return None

    def note(self, reason: str, amount: int = 1) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + amount


@lru_cache(maxsize=65_536)
def ip_class(ip: str) -> str | None:
    """ "multicast", "broadcast", "link-local" ... for addresses that are no single peer."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return "invalid"
    if addr.is_multicast:
        return "multicast"
    if isinstance(addr, ipaddress.IPv4Address) and (
        addr == ipaddress.IPv4Address("255.255.255.255") or ip.endswith(".255")
    ):
        return "broadcast"
    if addr.is_link_local:
        return "link-local"
    if addr.is_loopback:
        return "loopback"
    if addr.is_unspecified:
        return "unspecified"
    if addr.is_reserved:
        return "reserved"
    return None


def is_inbound(
    src: str, dst: str | None, local_orig: bool | None, local_resp: bool | None = None
) -> bool:
    """True when the connection was started from outside towards us.

    Zeek's ``local_orig=F, local_resp=T`` says so; when Zeek knows no local networks both
    are F, and the private/public address heuristic decides instead.
    """
    if local_orig is not None and local_resp is not None and local_orig != local_resp:
        return local_resp
    if dst is None:
        return False
    return not _private(src) and _private(dst)


@lru_cache(maxsize=65_536)
def _private(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_private
    except ValueError:
        return False
