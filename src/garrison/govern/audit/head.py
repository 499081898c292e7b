"""An exported chain head: what an operator keeps outside the home to prove later rewrites.

The chain's MACs use a key that lives in the home, so whoever can read the home can edit an
entry and re-MAC it (and every later entry) and the plain verification still holds. The
exported head pins the history with data that key cannot forge after the fact: a keyless
running digest over the entries' canonical bytes, in seq order,

    d0 = sha256("garrison-audit-digest-v1"),  d_i = sha256(d_{i-1} hex || "\\n" || canonical_i)

plus the last entry's MAC and time. Once the head is kept elsewhere (a ticket, a WORM store),
``check_export`` recomputes the digest from the stored entries: an edit of any entry at or
before the head's seq changes it whatever key re-MACed the entry; entries appended after the
head do not. One head says *that* history up to its seq changed, and names the head's entry
as the first one shown not to match; which earlier entry was edited needs an older head.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from garrison.core.errors import InputError
from garrison.core.timeutil import iso
from garrison.govern.audit.chain import Verdict
from garrison.govern.audit.entry import GENESIS, AuditEntry, same

FORMAT = "garrison-audit-head/1"
#: A head file is one small JSON object; anything larger is not one.
MAX_HEAD_BYTES = 64 * 1024
HEAD_MISMATCH = "exported head mismatch"
HEAD_AHEAD = "exported head ahead of the log"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SEED = hashlib.sha256(b"garrison-audit-digest-v1").hexdigest()


def digest_step(previous: str, entry: AuditEntry) -> str:
    """The keyless digest after ``entry`` (no key, no MAC: only the entry's own fields)."""
    return hashlib.sha256(previous.encode("ascii") + b"\n" + entry.canonical()).hexdigest()


@dataclass(frozen=True, slots=True)
class ExportedHead:
    """The head as exported: entry count (= last seq), keyless digest, last MAC and time."""

    seq: int
    digest: str
    mac: str
    time: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "seq": self.seq,
            "entries": self.seq,
            "digest": self.digest,
            "mac": self.mac,
            "time": self.time,
            "time_utc": iso(self.time) if self.time is not None else None,
        }

    def text(self) -> str:
        """One line of ASCII JSON (the exported form)."""
        return json.dumps(self.to_json(), sort_keys=True, ensure_ascii=True)


def head_of(entries: Iterable[AuditEntry]) -> ExportedHead:
    """The exported head of ``entries`` (stored order; verify the chain first)."""
    digest, last = _SEED, None
    for entry in entries:
        digest, last = digest_step(digest, entry), entry
    if last is None:
        return ExportedHead(0, digest, GENESIS, None)
    return ExportedHead(last.seq, digest, last.mac, last.time)


def check_export(entries: Iterable[AuditEntry], head: ExportedHead) -> Verdict:
    """Whether the chain still holds, at ``head.seq``, exactly the entry the head names.

    ``entries`` are in stored order and already verified (seq 1, 2, 3... without gaps).
    """
    digest, count, last = _SEED, 0, None
    for entry in entries:
        if entry.seq > head.seq:
            break
        digest, count, last = digest_step(digest, entry), count + 1, entry
    if head.seq == 0:
        return Verdict(True, count)
    if last is None or last.seq < head.seq:
        ends = last.seq if last is not None else 0
        why = f"the exported head names seq {head.seq}, the log ends at {ends}"
        return Verdict(False, count, ends + 1, HEAD_AHEAD, why, None)
    if not same(digest, head.digest) or not same(last.mac, head.mac):
        why = (
            "the entries up to this one are not the ones the exported head names "
            f"(keyless digest {digest[:16]}... != {head.digest[:16]}...): history at or "
            "before this entry was rewritten"
        )
        return Verdict(False, count, last.seq, HEAD_MISMATCH, why, last)
    return Verdict(True, count)


def parse_head(text: str) -> ExportedHead:
    """An exported head from its JSON text; ``InputError`` saying what is wrong otherwise."""
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise InputError(f"head file is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InputError("head file is not a JSON object")
    if obj.get("format") != FORMAT:
        raise InputError(f"head file format is not {FORMAT!r}")
    seq, digest, mac, time = obj.get("seq"), obj.get("digest"), obj.get("mac"), obj.get("time")
    if type(seq) is not int or seq < 0:
        raise InputError("head file seq is not a non-negative integer")
    for name, value in (("digest", digest), ("mac", mac)):
        if not isinstance(value, str) or not _HEX64.fullmatch(value):
            raise InputError(f"head file {name} is not 64 lowercase hex digits")
    if time is not None and type(time) is not int:
        raise InputError("head file time is not an integer")
    assert isinstance(digest, str) and isinstance(mac, str)  # noqa: S101 - narrows the type: both checked just above
    return ExportedHead(seq, digest, mac, time)


def read_head_file(path: Path) -> ExportedHead:
    """Read and parse a head file (size-capped); every failure is one ``InputError`` line."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_HEAD_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read head file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_HEAD_BYTES:
        raise InputError(f"head file {path} is larger than {MAX_HEAD_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"head file {path} is not UTF-8 text") from None
    return parse_head(text)
