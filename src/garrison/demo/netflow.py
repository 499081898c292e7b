"""Zeek ``conn`` and ``dns`` records, seen by a sensor on the core switch.

The sensor sees clients asking the domain controllers for names (so ``dns.log`` carries the
client address) and every connection leaving or crossing the network. A DNS query is also
a UDP connection, so it is written to both logs under one Zeek ``uid`` as Zeek does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from garrison.demo.domains import Answer, Catalog
from garrison.demo.recorder import Recorder
from garrison.demo.world import US_PER_S, World

CONN_FIELDS = (
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("local_resp", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
)
DNS_FIELDS = (
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("trans_id", "count"),
    ("rtt", "interval"),
    ("query", "string"),
    ("qclass", "count"),
    ("qclass_name", "string"),
    ("qtype", "count"),
    ("qtype_name", "string"),
    ("rcode", "count"),
    ("rcode_name", "string"),
    ("AA", "bool"),
    ("TC", "bool"),
    ("RD", "bool"),
    ("RA", "bool"),
    ("Z", "count"),
    ("answers", "vector[string]"),
    ("TTLs", "vector[interval]"),
    ("rejected", "bool"),
)
QTYPES = {"A": 1, "AAAA": 28, "TXT": 16, "CNAME": 5, "SRV": 33, "PTR": 12}
RCODES = {0: "NOERROR", 3: "NXDOMAIN", 2: "SERVFAIL"}
_UID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def is_local(ip: str) -> bool:
    return ip.startswith("10.")


@dataclass(slots=True)
class NetFactory:
    """Builds conn/dns records into a recorder; keeps each host's DNS cache."""

    world: World
    catalog: Catalog
    rec: Recorder
    rng: random.Random
    cache: dict[tuple[str, str], int] = field(default_factory=dict)

    def uid(self) -> str:
        return "C" + "".join(self.rng.choice(_UID_CHARS) for _ in range(17))

    def resolver(self, src_ip: str) -> str:
        dcs = self.world.dcs
        return dcs[sum(map(int, src_ip.split("."))) % len(dcs)].ip

    def conn(
        self,
        time_us: int,
        src: str,
        dst: str,
        dport: int,
        *,
        proto: str = "tcp",
        service: str = "-",
        duration: float = 0.5,
        orig_bytes: int = 500,
        resp_bytes: int = 1500,
        state: str = "SF",
        stage: str = "",
        uid: str | None = None,
        sport: int | None = None,
    ) -> str:
        """One connection; returns its uid."""
        uid = uid or self.uid()
        sport = sport or self.rng.randint(49152, 65535)
        tcp = proto == "tcp"
        overhead = 40 if tcp else 28
        opk = max(1, orig_bytes // 1380 + (3 if tcp else 0) + self.rng.randint(0, 2 if tcp else 0))
        rpk = max(
            1 if resp_bytes or not tcp else 0,
            resp_bytes // 1380 + (2 if tcp else 0) + self.rng.randint(0, 2 if tcp else 0),
        )
        if state == "S0":
            history, opk, rpk, orig_bytes, resp_bytes = "S", 1 + self.rng.randint(0, 2), 0, 0, 0
        elif state == "REJ":
            history, opk, rpk, orig_bytes, resp_bytes = "Sr", 1, 1, 0, 0
        elif not tcp:
            history = "Dd" if resp_bytes else "D"
        else:
            history = self.rng.choice(("ShADadFf", "ShADadfF", "ShADadFfR", "ShADdaFf"))
        record: dict[str, Any] = {
            "ts": time_us,
            "uid": uid,
            "id.orig_h": src,
            "id.orig_p": sport,
            "id.resp_h": dst,
            "id.resp_p": dport,
            "proto": proto,
            "service": service,
            "duration": duration if state not in ("S0",) else None,
            "orig_bytes": orig_bytes,
            "resp_bytes": resp_bytes,
            "conn_state": state,
            "local_orig": is_local(src),
            "local_resp": is_local(dst),
            "missed_bytes": 0,
            "history": history,
            "orig_pkts": opk,
            "orig_ip_bytes": orig_bytes + opk * overhead,
            "resp_pkts": rpk,
            "resp_ip_bytes": resp_bytes + rpk * overhead,
            "tunnel_parents": (),
        }
        self.rec.add("conn", time_us, record, stage)
        return uid

    def query(
        self,
        time_us: int,
        src: str,
        name: str,
        *,
        qtype: str = "A",
        answer: Answer | None = None,
        stage: str = "",
    ) -> Answer:
        """One DNS question and its answer, in dns.log and conn.log."""
        answer = answer if answer is not None else self.catalog.resolve(name)
        resolver = self.resolver(src)
        uid = self.uid()
        sport = self.rng.randint(49152, 65535)
        rtt = round(
            self.rng.uniform(0.0004, 0.002)
            if answer.rcode == 0 and self.rng.random() < 0.6
            else self.rng.uniform(0.008, 0.09),
            6,
        )
        record: dict[str, Any] = {
            "ts": time_us,
            "uid": uid,
            "id.orig_h": src,
            "id.orig_p": sport,
            "id.resp_h": resolver,
            "id.resp_p": 53,
            "proto": "udp",
            "trans_id": self.rng.randint(1, 65535),
            "rtt": rtt,
            "query": name,
            "qclass": 1,
            "qclass_name": "C_INTERNET",
            "qtype": QTYPES[qtype],
            "qtype_name": qtype,
            "rcode": answer.rcode,
            "rcode_name": RCODES[answer.rcode],
            "AA": False,
            "TC": False,
            "RD": True,
            "RA": True,
            "Z": 0,
            "answers": answer.answers,
            "TTLs": answer.ttls,
            "rejected": False,
        }
        self.rec.add("dns", time_us, record, stage)
        q_len = len(name) + 18
        r_len = (
            q_len
            + sum(16 if ":" not in a and a[:1].isdigit() else len(a) + 14 for a in answer.answers)
            + (40 if answer.rcode == 3 else 0)
        )
        self.conn(
            time_us,
            src,
            resolver,
            53,
            proto="udp",
            service="dns",
            duration=rtt,
            orig_bytes=q_len,
            resp_bytes=r_len,
            stage=stage,
            uid=uid,
            sport=sport,
        )
        return answer

    def lookup(self, time_us: int, src: str, name: str, stage: str = "") -> list[str]:
        """Resolve through the host's cache: only an expired name is asked again."""
        key = (src, name)
        if self.cache.get(key, 0) > time_us:
            return self.catalog.resolve(name).ips
        answer = self.query(time_us, src, name, stage=stage)
        if answer.rcode == 0:
            ttl = answer.ttls[0] if answer.ttls else 300.0
            self.cache[key] = time_us + int(ttl * US_PER_S)
        return answer.ips

    def https(
        self,
        time_us: int,
        src: str,
        name: str,
        *,
        orig_bytes: int,
        resp_bytes: int,
        duration: float,
        stage: str = "",
    ) -> None:
        """Look a name up (cached) then talk TLS to one of its addresses."""
        ips = self.lookup(time_us, src, name, stage)
        if not ips:
            return
        start = time_us + self.rng.randint(2_000, 40_000)
        self.conn(
            start,
            src,
            self.rng.choice(ips),
            443,
            service="ssl",
            duration=duration,
            orig_bytes=orig_bytes,
            resp_bytes=resp_bytes,
            stage=stage,
        )
