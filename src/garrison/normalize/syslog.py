"""Syslog / auth.log records -> OCSF.

What maps where (``fields`` always holds ``hostname``, ``program``, ``pid``, ``message`` plus
what was parsed: ``user``, ``src_ip``, ``src_port``, ``auth_method``, ``auth_event`` ...):

- Authentication 3002, ``activity_id`` 1 (Logon), status Success/Failure — one per attempt,
  the records to count: sshd ``Accepted|Failed <method> for [invalid user] X from IP port N``
  (also inside ``message repeated N times: [ ... ]``, with ``count`` = N); su success/failure
  (``(to root) alice on pts/0``, ``FAILED SU``, ``Successful su``/``FAILED su for``, shadow's
  ``+``/``-`` lines); sudo ``N incorrect password attempts`` and ``user NOT in sudoers``.
- Authentication 3002, ``activity_id`` 99 (Other): lines that accompany an attempt and would
  double-count it — sshd ``Invalid user``, ``Connection closed by [invalid user]``,
  ``Received disconnect``, ``Too many authentication failures``, ``maximum authentication
  attempts exceeded``, ``POSSIBLE BREAK-IN ATTEMPT``, PAM ``authentication failure`` and
  ``PAM N more authentication failures`` (``count`` = N), and PAM ``session opened``;
  ``session closed`` is ``activity_id`` 2 (Logoff). ``unmapped.auth_event`` names each case.
- Process Activity 1007 (Launch): a sudo ``COMMAND=`` line. Decision: the command is the
  security-relevant content of that line (what ran as whom), and sudo's authentication
  shows up separately (PAM lines, ``incorrect password attempts``), so the line is a
  process launch by ``actor.user`` (the invoking user) running as ``user`` (``USER=``),
  with ``process.cmd_line``, ``unmapped.tty``/``pwd``.
- Everything else: Base Event 0 with ``message``, ``device.hostname`` and the program.

Authentication events carry ``user.name`` and ``actor.user.name`` (both the account that
authenticated; for su the target account is ``user`` and the invoking one ``actor.user``),
``src_endpoint.ip``/``port``, ``dst_endpoint.hostname`` and ``device.hostname`` (the logging
host), ``auth_protocol`` (the sshd method), ``logon_type`` "ssh"/"sudo"/"su"/<PAM service>
(``logon_type_id`` 99) and ``unmapped.invalid_user``.

Attacker-chosen user names may contain `` from 1.2.3.4 port 22``: patterns anchor on the
end of the line, where sshd writes the real address, never on the first match.
"""

from __future__ import annotations

import re
from typing import Any

from garrison.core.errors import RecordError
from garrison.core.events import (
    CLASS_AUTHENTICATION,
    CLASS_BASE_EVENT,
    CLASS_PROCESS_ACTIVITY,
    RawRecord,
)
from garrison.normalize._ocsf_build import base_event, compact, endpoint, set_status
from garrison.normalize.base import NORMALIZERS, Normalized

_SSHD = {"sshd", "sshd-session", "sshd-auth"}
_LOGON_TYPES = {"sshd": "ssh", "sshd-session": "ssh", "sudo": "sudo", "su": "su", "su-l": "su"}

_ACCEPT_FAIL = re.compile(
    r"(?P<verb>Accepted|Failed) (?P<method>\S+) for (?P<invalid>invalid user )?(?P<user>.*)"
    r" from (?P<ip>\S+) port (?P<port>\d+)(?: ssh\d?)?(?:: (?P<key>.*))?$"
)
_REPEATED = re.compile(r"message repeated (?P<n>\d{1,9}) times: \[ ?(?P<inner>.*?) ?\]$")
_INVALID_USER = re.compile(r"Invalid user (?P<user>.*) from (?P<ip>\S+)(?: port (?P<port>\d+))?$")
#: No keyword separates the user from the address here, so the user is matched lazily
#: against a fully anchored tail: the first split whose rest is exactly "IP port N [preauth]".
_CLOSED = re.compile(
    r"Connection (?:closed|reset) by (?:(?:invalid|authenticating) user (?P<user>.*?) )?"
    r"(?P<ip>[^\s\[\]]+)(?: port (?P<port>\d+))?(?: \[preauth\])?$"
)
_DISCONNECT = re.compile(
    r"(?:error: )?Received disconnect from (?P<ip>\S+?)(?: port (?P<port>\d+))?:\s*"
    r"(?P<code>\d+): (?P<reason>.*)$"
)
_TOO_MANY = re.compile(
    r"(?:error: )?Disconnecting(?: (?:invalid|authenticating) user (?P<user>.*) (?P<ip>\S+)"
    r" port (?P<port>\d+))?: Too many authentication failures(?: for (?:invalid user )?"
    r"(?P<user2>.*?))?(?: \[preauth\])?$"
)
_MAX_ATTEMPTS = re.compile(
    r"error: maximum authentication attempts exceeded for (?P<invalid>invalid user )?"
    r"(?P<user>.*) from (?P<ip>\S+) port (?P<port>\d+)(?: ssh\d?)?(?: \[preauth\])?$"
)
_BREAK_IN = re.compile(
    r"(?:reverse mapping checking getaddrinfo for (?P<name>\S+) \[(?P<ip>[^\]]+)\] failed"
    r"|Address (?P<ip2>\S+) maps to (?P<name2>\S+), but this does not map back)"
    r".*POSSIBLE BREAK-IN ATTEMPT!?$"
)
_PAM_MORE = re.compile(r"PAM (?P<n>\d{1,9}) more authentication failures?; (?P<kv>.*)$")
_PAM = re.compile(r"pam_unix\((?P<service>[^:()]+):(?P<kind>\w+)\): (?P<rest>.*)$")
_PAM_FAILURE_KV = re.compile(
    r"logname=(?P<logname>\S*) uid=(?P<uid>\S*) euid=(?P<euid>\S*) tty=(?P<tty>\S*) "
    r"ruser=(?P<ruser>\S*) rhost=(?P<rhost>\S*)(?:\s+user=(?P<user>.*?))?\s*$"
)
_SESSION = re.compile(
    r"session (?P<what>opened|closed) for user (?P<user>[^\s(]+)(?:\(uid=\d+\))?"
    r"(?: by (?P<by>[^\s(]*)(?:\(uid=\d+\))?)?$"
)
_SU_OK = re.compile(r"\(to (?P<target>\S+)\) (?P<user>\S+) on (?P<tty>\S+)$")
_SU_FAIL = re.compile(r"FAILED SU \(to (?P<target>\S+)\) (?P<user>\S+) on (?P<tty>\S+)$")
_SU_SHADOW = re.compile(r"(?P<verdict>Successful|FAILED) su for (?P<target>\S+) by (?P<user>\S+)$")
_SU_SIGN = re.compile(r"(?P<sign>[+-]) (?P<tty>\S+) (?P<user>[^\s:]+):(?P<target>\S+)$")
_SUDO = re.compile(r"\s*(?P<user>\S+) : (?P<rest>.*)$")
_SUDO_TRIES = re.compile(r"(?P<n>\d+) incorrect password attempts?$")


@NORMALIZERS.register("syslog")
def normalize_syslog(record: RawRecord) -> Normalized:
    data = record.data
    if not isinstance(data, dict) or "time" not in data:
        raise RecordError("syslog record without parsed header")
    fields: dict[str, Any] = {k: data.get(k) for k in ("hostname", "program", "pid", "message")}
    for key in ("facility", "severity", "msgid", "structured_data", "syslog_format"):
        if key in data:
            fields[key] = data[key]
    message = str(data.get("message") or "")
    program = str(data.get("program") or "")
    parsed = _parse(program, message)
    ocsf = _to_ocsf(parsed, data, message) if parsed else _base(data, message)
    if data.get("year_inferred"):
        ocsf["metadata"]["year_inferred"] = True
    if data.get("time_missing"):
        ocsf["metadata"]["time_missing"] = True
    if parsed:
        fields.update({k: v for k, v in parsed.items() if not k.startswith("_")})
    return Normalized(ocsf["class_uid"], int(data["time"]), compact(ocsf), fields)


def _parse(program: str, message: str) -> dict[str, Any] | None:
    """What the message says, as flat fields; ``_class``/``_activity`` drive the mapping."""
    repeated = _REPEATED.match(message)
    if repeated:
        inner = _parse(program, repeated["inner"])
        if inner:
            inner["count"] = int(repeated["n"])
        return inner
    pam = _PAM.match(message)
    if pam:
        return _pam(pam)
    if program in _SSHD or program.startswith("sshd"):
        return _sshd(message)
    if program == "sudo":
        return _sudo(message)
    if program in ("su", "su-l"):
        return _su(message)
    return None


def _auth(event: str, activity: int, ok: bool | None, **values: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "_class": CLASS_AUTHENTICATION,
        "_activity": activity,
        "_ok": ok,
        "auth_event": event,
    }
    out.update({k: v for k, v in values.items() if v not in (None, "")})
    return out


def _sshd(msg: str) -> dict[str, Any] | None:
    m = _ACCEPT_FAIL.match(msg)
    if m:
        ok = m["verb"] == "Accepted"
        return _auth(
            "accepted" if ok else "failed",
            1,
            ok,
            user=m["user"],
            src_ip=m["ip"],
            src_port=int(m["port"]),
            auth_method=m["method"],
            invalid_user=bool(m["invalid"]),
            key=m["key"],
            logon_type="ssh",
        )
    for pattern, event, ok in (
        (_INVALID_USER, "invalid_user", False),
        (_CLOSED, "connection_closed", None),
        (_MAX_ATTEMPTS, "max_attempts_exceeded", False),
    ):
        m = pattern.match(msg)
        if m:
            groups = m.groupdict()
            invalid = (
                event == "invalid_user"
                or bool(groups.get("invalid"))
                or (event == "connection_closed" and "invalid user" in msg)
            )
            return _auth(
                event,
                99,
                ok,
                user=groups.get("user"),
                src_ip=m["ip"],
                src_port=_int(groups.get("port")),
                invalid_user=invalid or None,
                logon_type="ssh",
            )
    m = _DISCONNECT.match(msg)
    if m:
        return _auth(
            "disconnect",
            99,
            None,
            src_ip=m["ip"],
            src_port=_int(m["port"]),
            reason=m["reason"],
            logon_type="ssh",
        )
    m = _TOO_MANY.match(msg)
    if m:
        return _auth(
            "too_many_failures",
            99,
            False,
            user=m["user"] or m["user2"],
            src_ip=m["ip"],
            src_port=_int(m["port"]),
            logon_type="ssh",
        )
    m = _BREAK_IN.match(msg)
    if m:
        return _auth(
            "break_in_attempt",
            99,
            None,
            src_ip=m["ip"] or m["ip2"],
            src_host=m["name"] or m["name2"],
            logon_type="ssh",
        )
    m = _PAM_MORE.match(msg)
    if m:
        kv = _PAM_FAILURE_KV.search(m["kv"])
        return _auth(
            "pam_auth_failure",
            99,
            False,
            count=int(m["n"]),
            src_ip=kv["rhost"] if kv else None,
            user=(kv["user"] or "").strip() if kv else None,
            logon_type="ssh",
        )
    return None


def _pam(m: re.Match[str]) -> dict[str, Any] | None:
    service, kind, rest = m["service"], m["kind"], m["rest"]
    logon_type = _LOGON_TYPES.get(service, service)
    if kind == "auth" and rest.startswith("authentication failure;"):
        kv = _PAM_FAILURE_KV.search(rest)
        if kv is None:
            return _auth("pam_auth_failure", 99, False, logon_type=logon_type, pam_service=service)
        user = (kv["user"] or "").strip() or kv["ruser"] or kv["logname"]
        return _auth(
            "pam_auth_failure",
            99,
            False,
            user=user,
            src_ip=kv["rhost"],
            tty=kv["tty"],
            ruser=kv["ruser"],
            logon_type=logon_type,
            pam_service=service,
        )
    if kind == "session":
        s = _SESSION.match(rest)
        if s:
            opened = s["what"] == "opened"
            return _auth(
                "session_opened" if opened else "session_closed",
                99 if opened else 2,
                True,
                user=s["user"],
                actor=s["by"] or None,
                logon_type=logon_type,
                pam_service=service,
            )
    return None


def _su(msg: str) -> dict[str, Any] | None:
    for pattern, ok in ((_SU_FAIL, False), (_SU_OK, True)):
        m = pattern.match(msg)
        if m:
            return _auth(
                "su_success" if ok else "su_failure",
                1,
                ok,
                user=m["target"],
                actor=m["user"],
                tty=m["tty"],
                logon_type="su",
            )
    m = _SU_SHADOW.match(msg)
    if m:
        ok = m["verdict"] == "Successful"
        return _auth(
            "su_success" if ok else "su_failure",
            1,
            ok,
            user=m["target"],
            actor=m["user"],
            logon_type="su",
        )
    m = _SU_SIGN.match(msg)
    if m:
        ok = m["sign"] == "+"
        return _auth(
            "su_success" if ok else "su_failure",
            1,
            ok,
            user=m["target"],
            actor=m["user"],
            tty=m["tty"],
            logon_type="su",
        )
    return None


def _sudo(msg: str) -> dict[str, Any] | None:
    m = _SUDO.match(msg)
    if not m or ("TTY=" not in m["rest"] and "COMMAND=" not in m["rest"]):
        return None
    rest = m["rest"]
    command = None
    if "COMMAND=" in rest:
        rest, _, command = rest.partition("COMMAND=")
    parts = [p.strip() for p in rest.split(" ; ") if p.strip()]
    kv = dict(p.split("=", 1) for p in parts if "=" in p and " " not in p.split("=", 1)[0])
    reasons = [p for p in parts if "=" not in p]
    reason = reasons[0].rstrip(" ;") if reasons else None
    values = {
        "actor": m["user"],
        "user": kv.get("USER"),
        "tty": kv.get("TTY"),
        "pwd": kv.get("PWD"),
        "command": command,
        "logon_type": "sudo",
    }
    if reason:
        tries = _SUDO_TRIES.match(reason)
        event = (
            "sudo_incorrect_password"
            if tries
            else ("sudo_not_in_sudoers" if "NOT in sudoers" in reason else "sudo_refused")
        )
        out = _auth(event, 1, False, reason=reason, **values)
        out["user"] = m["user"]  # the invoking user is the one who failed to authenticate
        out["target_user"] = kv.get("USER")
        if tries:
            out["count"] = int(tries["n"])
        return out
    if command is None:
        return None
    out = _auth("sudo_command", 1, True, **values)
    out["_class"] = CLASS_PROCESS_ACTIVITY
    return out


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def _to_ocsf(p: dict[str, Any], data: dict[str, Any], message: str) -> dict[str, Any]:
    class_uid = p["_class"]
    if class_uid == CLASS_PROCESS_ACTIVITY:
        return _process(p, data, message)
    activity = p["_activity"]
    name = {1: "Logon", 2: "Logoff"}.get(activity, "Other")
    ocsf = _header(CLASS_AUTHENTICATION, activity, name, data, message)
    set_status(ocsf, p["_ok"])
    host = data.get("hostname")
    user = p.get("user")
    actor = p.get("actor") or user
    ocsf["user"] = {"name": user}
    ocsf["actor"] = {"user": {"name": actor}}
    ocsf["src_endpoint"] = endpoint(p.get("src_ip"), p.get("src_port"), p.get("src_host"))
    ocsf["dst_endpoint"] = {"hostname": host}
    ocsf["logon_type"] = p.get("logon_type")
    ocsf["logon_type_id"] = 99 if p.get("logon_type") else None
    ocsf["is_remote"] = True if p.get("logon_type") == "ssh" else None
    ocsf["auth_protocol"] = p.get("auth_method")
    ocsf["auth_protocol_id"] = 99 if p.get("auth_method") else None
    ocsf["service"] = {"name": data.get("program")}
    ocsf["count"] = p.get("count")
    ocsf["unmapped"] = {
        k: p.get(k)
        for k in (
            "auth_event",
            "invalid_user",
            "reason",
            "tty",
            "command",
            "target_user",
            "key",
            "pam_service",
            "ruser",
        )
    }
    return ocsf


def _process(p: dict[str, Any], data: dict[str, Any], message: str) -> dict[str, Any]:
    ocsf = _header(CLASS_PROCESS_ACTIVITY, 1, "Launch", data, message)
    set_status(ocsf, True)
    command = str(p.get("command") or "")
    ocsf["actor"] = {"user": {"name": p.get("actor")}}
    ocsf["user"] = {"name": p.get("user")}
    ocsf["process"] = {
        "cmd_line": command,
        "file": {"path": command.split(" ", 1)[0]},
        "user": {"name": p.get("user")},
    }
    ocsf["unmapped"] = {"auth_event": "sudo_command", "tty": p.get("tty"), "pwd": p.get("pwd")}
    return ocsf


def _header(
    class_uid: int, activity: int, name: str, data: dict[str, Any], message: str
) -> dict[str, Any]:
    program = data.get("program") or "syslog"
    ocsf = base_event(
        class_uid,
        activity,
        name,
        int(data["time"]),
        product=str(program),
        vendor="syslog",
        log_name="syslog",
    )
    ocsf["message"] = message
    ocsf["device"] = {"hostname": data.get("hostname")}
    return ocsf


def _base(data: dict[str, Any], message: str) -> dict[str, Any]:
    ocsf = _header(CLASS_BASE_EVENT, 99, "Other", data, message)
    ocsf["unmapped"] = {
        k: data.get(k)
        for k in ("program", "pid", "facility", "severity", "msgid", "structured_data")
    }
    return ocsf
