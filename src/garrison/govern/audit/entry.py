"""One audit entry, its canonical bytes and its MAC; redaction of secret-looking details.

Every text field of an entry (actor, target, details) can carry attacker-influenced text:
it is stored as data, serialised canonically (sorted keys, no whitespace, UTF-8) and never
interpreted. Values under keys that look like secrets are replaced before anything is
written, so a secret handed to an audited call never reaches the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any

#: ``prev_mac`` of the first entry.
GENESIS = "0" * 64
REDACTED = "[REDACTED]"
#: Longest string kept in details; longer ones are cut (an audit entry is not a data store).
MAX_TEXT = 2048
MAX_DEPTH = 8

_SECRET_KEY = re.compile(
    r"pass(word|wd|phrase)?|pwd|token|secret|key|auth|credential|cookie|private|session",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(
    r"^\s*(bearer|basic|digest|negotiate)\s+\S+|-----BEGIN [A-Z ]*PRIVATE KEY-----",
    re.IGNORECASE,
)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.\-]*://[^/@:\s]*:)[^/@\s]*(?=@)", re.I)


def is_secret_key(name: str) -> bool:
    """True for a details key whose value must not be logged (password, api_key, token...)."""
    return bool(_SECRET_KEY.search(name))


def _no_surrogates(value: str) -> str:
    """Lone surrogates (undecodable file names, hostile text) made visible as ``\\udcxx``:
    they cannot be stored as UTF-8 and would fail the write after the action was done."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _clean_text(value: str) -> str:
    value = _no_surrogates(value)
    if _SECRET_VALUE.search(value):
        return REDACTED
    value = _URL_PASSWORD.sub(lambda m: m.group("head") + REDACTED, value)
    if len(value) > MAX_TEXT:
        value = value[:MAX_TEXT] + f"...[{len(value) - MAX_TEXT} more chars]"
    return value


def redact(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy of ``value`` with secret-looking keys and values replaced.

    Anything that is not JSON (bytes, objects, NaN) becomes a string; keys become strings;
    nesting deeper than ``MAX_DEPTH`` is cut. Nothing is ever evaluated.
    """
    if depth > MAX_DEPTH:
        return "[TOO DEEP]"
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = _no_surrogates(str(key))
            out[name] = REDACTED if is_secret_key(name) else redact(item, depth + 1)
        return out
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [redact(item, depth + 1) for item in items]
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes):
        return _clean_text(value.decode("utf-8", "backslashreplace"))
    return _clean_text(str(value))


def canonical_json(value: Any) -> str:
    """Deterministic JSON text: sorted keys, no spaces, non-ASCII kept, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """A stored entry. ``details`` is the canonical JSON text exactly as MAC'd."""

    seq: int
    time: int
    actor: str
    action: str
    target: str
    outcome: str
    details: str
    key_id: str
    prev_mac: str
    mac: str

    def canonical(self) -> bytes:
        """The bytes the MAC covers besides ``prev_mac`` (every field but the MACs)."""
        body = [
            self.seq,
            self.time,
            self.actor,
            self.action,
            self.target,
            self.outcome,
            self.details,
            self.key_id,
        ]
        return canonical_json(body).encode("utf-8", "surrogatepass")

    def details_obj(self) -> Any:
        """The details parsed back (for display); the raw text when it is not JSON."""
        try:
            return json.loads(self.details)
        except ValueError:
            return self.details

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "outcome": self.outcome,
            "details": self.details_obj(),
            "key_id": self.key_id,
            "prev_mac": self.prev_mac,
            "mac": self.mac,
        }


def compute_mac(key: bytes, prev_mac: str, entry: AuditEntry) -> str:
    """HMAC-SHA256(key, prev_mac || "\\n" || canonical entry), hex."""
    msg = prev_mac.encode("utf-8", "surrogatepass") + b"\n" + entry.canonical()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time equality of two texts (any characters: stored text may be hostile)."""
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


def key_id(key: bytes) -> str:
    """A public name for a key (an HMAC of a fixed label): tells which key signed an entry."""
    return hmac.new(key, b"garrison-audit-key-id", hashlib.sha256).hexdigest()[:16]


def seal(
    key: bytes,
    seq: int,
    time: int,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    details: Any,
    prev_mac: str,
) -> AuditEntry:
    """Build the next entry: details redacted and canonicalised, then MAC'd to the chain."""
    text = canonical_json(redact(details if details is not None else {}))
    draft = AuditEntry(
        seq,
        int(time),
        _clean_text(str(actor)),
        _clean_text(str(action)),
        _clean_text(str(target)),
        _clean_text(str(outcome)),
        text,
        key_id(key),
        prev_mac,
        "",
    )
    mac = compute_mac(key, prev_mac, draft)
    return replace(draft, mac=mac)


#: Column order of an entry (the SQLite table and ``AuditEntry`` agree).
FIELDS = (
    "seq",
    "time",
    "actor",
    "action",
    "target",
    "outcome",
    "details",
    "key_id",
    "prev_mac",
    "mac",
)
