"""One authentication attempt, read off an event, whatever log it came from.

Sources, first match wins:

1. Windows Security events by their flat fields (the house ``fields`` convention):
   4624 / 4625 logon success / failure, 4648 explicit credentials (target =
   ``TargetServerName``), 4768 TGT, 4769 service ticket (target = the computer account in
   ``ServiceName``), 4771 Kerberos pre-authentication failure, 4776 NTLM validation; Kerberos
   and NTLM outcomes from ``Status`` (``0x0`` = success).
2. OCSF Authentication (3002) events: ``user.name``, ``status_id`` (1 success, 2 failure),
   ``src_endpoint``, ``dst_endpoint`` / ``device``, ``count``. Only activities that *are*
   an attempt count (Logon 1, ticket requests 3 and 4, or no activity given); the syslog
   normalizer marks lines that merely accompany an attempt (``Invalid user``, PAM
   failures, disconnects) as activity 99 so they are not counted twice.
3. Unclassified sshd lines (``program`` sshd and a ``message``): ``Accepted`` / ``Failed
   <method> for [invalid user] X from IP port N``, also inside ``message repeated N times``.

Everything is attacker-controlled: user names are cut to 128 characters, IPs validated,
IPv4-mapped IPv6 (``::ffff:10.0.0.1``) folded to IPv4, and anything unreadable gives None.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from garrison.core.events import CLASS_AUTHENTICATION, Event
from garrison.core.paths import dig as _dig

SUCCESS = "success"
FAILURE = "failure"

WINDOWS_AUTH_IDS = frozenset({4624, 4625, 4648, 4768, 4769, 4771, 4776})
#: OCSF Authentication activities that are one attempt each (0 = not given).
_ATTEMPT_ACTIVITIES = frozenset({0, 1, 3, 4})
_NO_USER = frozenset(
    {
        "",
        "-",
        "?",
        "null",
        "none",
        "n/a",
        "unknown",
        "anonymous logon",
        "anonymous",
        "system",
        "local service",
        "network service",
    }
)
_SSHD_LINE = re.compile(
    r"(?P<verb>Accepted|Failed) (?P<method>\S+) for (?:invalid user )?(?P<user>.*) from "
    r"(?P<ip>\S+) port \d+(?: ssh\d?)?(?:: .*)?$"
)
_REPEATED = re.compile(r"message repeated (?P<n>\d{1,6}) times: \[ ?(?P<inner>.*?) ?\]$")


@dataclass(slots=True, frozen=True)
class AuthEvent:
    time: int
    user: str
    domain: str
    outcome: str
    src_ip: str | None
    src_host: str | None
    dst_host: str | None
    #: "logon", "explicit", "tgt", "service-ticket", "preauth", "ntlm", "ssh", "other"
    kind: str
    logon_type: str
    machine: bool
    count: int
    source_path: str
    record_id: int
    uid: str
    #: The ingest batch's content fingerprint: a batch already learnt is not learnt twice.
    batch: str = ""

    @property
    def source(self) -> str | None:
        """Where the attempt came from: the IP when known, else the workstation name."""
        return self.src_ip or self.src_host


def _text(value: Any, limit: int = 128) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()[:limit]


def split_user(raw: Any, domain: Any = None) -> tuple[str, str, bool] | None:
    """(user, domain, is_machine) with the domain taken out of ``DOM\\u`` / ``u@dom``."""
    text = _text(raw)
    dom = _text(domain)
    if "\\" in text:
        dom, _, text = text.rpartition("\\")
    if "@" in text:
        text, _, at_dom = text.partition("@")
        dom = dom or at_dom
    user = text.strip().lower()
    if user in _NO_USER:
        return None
    return user, dom.strip().lower().split(".")[0], user.endswith("$")


def clean_ip(value: Any) -> str | None:
    text = _text(value, 64).strip("[]")
    if not text or text in ("-", "::1", "127.0.0.1", "0.0.0.0", "::"):  # noqa: S104 - addresses to skip, not to bind
        return None
    try:
        addr = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.is_loopback or addr.is_unspecified:
        return None
    return str(addr)


def clean_host(value: Any) -> str | None:
    text = _text(value, 255).lower().rstrip(".").strip("\\")
    if not text or text in _NO_USER or text in ("localhost", "-"):
        return None
    if clean_ip(text) is not None:
        return None
    return text.split(".")[0].rstrip("$") or None


def _status_ok(value: Any) -> bool:
    text = _text(value, 32).lower()
    return text in ("", "0x0", "0", "0x00000000")


def _count(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), 100_000)


def _windows(event: Event, f: dict[str, Any]) -> AuthEvent | None:
    try:
        eid = int(f.get("EventID"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if eid not in WINDOWS_AUTH_IDS:
        return None
    channel = _text(f.get("Channel")).lower()
    if channel and channel != "security":
        return None
    computer = clean_host(f.get("Computer") or f.get("Hostname"))
    who = split_user(f.get("TargetUserName"), f.get("TargetDomainName"))
    if who is None:
        return None
    src_ip = clean_ip(f.get("IpAddress"))
    src_host = clean_host(f.get("WorkstationName") or f.get("Workstation"))
    dst = computer
    outcome = SUCCESS
    kind = "logon"
    if eid == 4625:
        outcome = FAILURE
    elif eid == 4648:
        kind = "explicit"
        dst = clean_host(f.get("TargetServerName")) or computer
        src_host = src_host or computer
    elif eid == 4768:
        kind, outcome = "tgt", SUCCESS if _status_ok(f.get("Status")) else FAILURE
    elif eid == 4769:
        kind = "service-ticket"
        outcome = SUCCESS if _status_ok(f.get("Status")) else FAILURE
        service = _text(f.get("ServiceName")).lower()
        dst = clean_host(service) if service.endswith("$") else computer
    elif eid == 4771:
        kind, outcome = "preauth", FAILURE
    elif eid == 4776:
        kind = "ntlm"
        outcome = SUCCESS if _status_ok(f.get("Status") or f.get("ErrorCode")) else FAILURE
    user, domain, machine = who
    return _make(
        event,
        user,
        domain,
        outcome,
        src_ip,
        src_host,
        dst,
        kind,
        _text(f.get("LogonType"), 8),
        machine,
        1,
    )


def _ocsf(event: Event, o: dict[str, Any]) -> AuthEvent | None:
    activity = o.get("activity_id", 0)
    if activity not in _ATTEMPT_ACTIVITIES:
        return None
    status = o.get("status_id")
    if status not in (1, 2):
        return None
    who = split_user(_dig(o, "user.name"), _dig(o, "user.domain"))
    if who is None:
        return None
    user, domain, machine = who
    kind = "ssh" if _text(o.get("logon_type")).lower() == "ssh" else "logon"
    dst = clean_host(_dig(o, "dst_endpoint.hostname") or _dig(o, "device.hostname"))
    return _make(
        event,
        user,
        domain,
        SUCCESS if status == 1 else FAILURE,
        clean_ip(_dig(o, "src_endpoint.ip")),
        clean_host(_dig(o, "src_endpoint.hostname")),
        dst,
        kind,
        _text(o.get("logon_type_id") if kind != "ssh" else "ssh", 8),
        machine,
        _count(o.get("count")),
    )


def _sshd(event: Event, f: dict[str, Any]) -> AuthEvent | None:
    if not _text(f.get("program")).lower().startswith("sshd"):
        return None
    message = _text(f.get("message"), 2048)
    count = 1
    repeated = _REPEATED.match(message)
    if repeated:
        count, message = _count(repeated["n"]), repeated["inner"]
    m = _SSHD_LINE.match(message)
    if not m:
        return None
    who = split_user(m["user"])
    if who is None:
        return None
    user, domain, machine = who
    return _make(
        event,
        user,
        domain,
        SUCCESS if m["verb"] == "Accepted" else FAILURE,
        clean_ip(m["ip"]),
        None,
        clean_host(f.get("hostname")),
        "ssh",
        "ssh",
        machine,
        count,
    )


def _make(
    event: Event,
    user: str,
    domain: str,
    outcome: str,
    src_ip: str | None,
    src_host: str | None,
    dst_host: str | None,
    kind: str,
    logon_type: str,
    machine: bool,
    count: int,
) -> AuthEvent:
    time = event.time if isinstance(event.time, int) and not isinstance(event.time, bool) else 0
    return AuthEvent(
        time,
        user,
        domain,
        outcome,
        src_ip,
        src_host,
        dst_host,
        kind,
        logon_type,
        machine,
        count,
        event.source_path,
        event.record_id,
        event.uid,
        str(getattr(event.provenance, "batch_fingerprint", "") or ""),
    )


def auth_event_of(event: Event) -> AuthEvent | None:
    """The authentication attempt an event records, or None (never raises)."""
    try:
        fields = event.fields if isinstance(event.fields, dict) else {}
        if "EventID" in fields:
            found = _windows(event, fields)
            if found is not None:
                return found
        ocsf = event.ocsf if isinstance(event.ocsf, dict) else {}
        if event.class_uid == CLASS_AUTHENTICATION and "EventID" not in fields:
            return _ocsf(event, ocsf)
        if "program" in fields:
            return _sshd(event, fields)
    except Exception:  # a hostile record must never stop the run
        return None
    return None
