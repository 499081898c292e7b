"""Reading values off the flat Windows ``fields`` for the OCSF builders: placeholders
("-", "N/A", the NULL SID) read as absent, text/int/IP coercion, and the small OCSF objects
(user, file, process, hashes) every builder shares."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from garrison.normalize._windows_fields import as_int

#: "Nobody": the NULL SID Windows writes when there is no account.
_NULL_SID = "S-1-0-0"
_EMPTY = frozenset({"", "-", "--", "n/a", "N/A"})
_HASH_IDS = {"MD5": 1, "SHA1": 2, "SHA256": 3, "SHA512": 4}
_HASH_ORDER = {"SHA256": 0, "SHA1": 1, "MD5": 2, "SHA512": 3}


def _v(fields: dict[str, Any], name: str) -> Any:
    """The field's value, or None when it is absent or a Windows "nothing" placeholder."""
    value = fields.get(name)
    if value is None or (value.__class__ is str and value in _EMPTY):
        return None
    return value


def _s(fields: dict[str, Any], name: str) -> str | None:
    """The field as text, None when absent or a placeholder ("", "-", "N/A")."""
    value = fields.get(name)
    if value is None:
        return None
    if value.__class__ is str:
        return None if value in _EMPTY else value
    return str(value)


def _n(fields: dict[str, Any], name: str) -> int | None:
    value = fields.get(name)
    return value if value.__class__ is int else as_int(value)


def _ip(fields: dict[str, Any], name: str) -> str | None:
    value = _s(fields, name)
    if value is None:
        return None
    value = value.strip()
    return value[7:] if value[:7].lower() == "::ffff:" and "." in value else value


def _prune(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The dict without its None values; None when nothing is left."""
    return {k: v for k, v in obj.items() if v is not None} or None


def _basename(path: str) -> str | None:
    return path[max(path.rfind("\\"), path.rfind("/")) + 1 :] or None


def _user(
    name: str | None, domain: str | None = None, uid: str | None = None
) -> dict[str, Any] | None:
    if name is not None and domain is None and "\\" in name:
        domain, _, name = name.partition("\\")
    user: dict[str, Any] = {}
    if name:
        user["name"] = name
    if domain:
        user["domain"] = domain
    if uid and uid != _NULL_SID:
        user["uid"] = uid
    return user or None


def _subject(fields: dict[str, Any]) -> dict[str, Any] | None:
    return _user(
        _s(fields, "SubjectUserName"), _s(fields, "SubjectDomainName"), _s(fields, "SubjectUserSid")
    )


def _target(fields: dict[str, Any]) -> dict[str, Any] | None:
    return _user(
        _s(fields, "TargetUserName"), _s(fields, "TargetDomainName"), _s(fields, "TargetUserSid")
    )


def _file(
    path: str | None, hashes: list[dict[str, Any]] | None = None, name: str | None = None
) -> dict[str, Any] | None:
    if path is None:
        return None
    found: dict[str, Any] = {"path": path}
    name = name or _basename(path)
    if name:
        found["name"] = name
    if hashes:
        found["hashes"] = hashes
    return found


def _process(
    path: str | None,
    pid: int | None,
    uid: str | None = None,
    cmd_line: str | None = None,
    hashes: list[dict[str, Any]] | None = None,
) -> dict[str, Any] | None:
    proc: dict[str, Any] = {}
    if pid is not None:
        proc["pid"] = pid
    if uid is not None:
        proc["uid"] = uid
    if cmd_line is not None:
        proc["cmd_line"] = cmd_line
    if path is not None:
        name = _basename(path)
        if name:
            proc["name"] = name
        proc["file"] = _file(path, hashes, name)
    return proc or None


def hashes_of(value: Any) -> list[dict[str, Any]] | None:
    """Sysmon ``Hashes`` ("SHA1=..,MD5=..,SHA256=..,IMPHASH=..") as OCSF fingerprints,
    strongest first, values lower-cased. Parsing is cached: the same binaries recur."""
    if value.__class__ is not str or "=" not in value:
        return None
    parsed = _parse_hashes(value)
    if not parsed:
        return None
    return [
        {"algorithm": algorithm, "algorithm_id": algorithm_id, "value": digest}
        for algorithm, algorithm_id, digest in parsed
    ]


@lru_cache(maxsize=4096)
def _parse_hashes(value: str) -> tuple[tuple[str, int, str], ...]:
    found = []
    for part in value.split(","):
        algorithm, sep, digest = part.partition("=")
        algorithm = algorithm.strip().upper()
        digest = digest.strip().lower()
        if sep and algorithm and digest:
            found.append((algorithm, _HASH_IDS.get(algorithm, 99), digest))
    found.sort(key=_hash_rank)
    return tuple(found)


def _hash_rank(fingerprint: tuple[str, int, str]) -> int:
    return _HASH_ORDER.get(fingerprint[0], 9)


def _sysmon_actor(fields: dict[str, Any]) -> dict[str, Any] | None:
    actor: dict[str, Any] = {}
    proc = _process(_s(fields, "Image"), _n(fields, "ProcessId"), _s(fields, "ProcessGuid"))
    if proc is not None:
        actor["process"] = proc
    user = _user(_s(fields, "User"))
    if user is not None:
        actor["user"] = user
    return actor or None
