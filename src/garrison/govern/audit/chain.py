"""Verification of an audit chain: the first entry whose integrity cannot be established.

Checked in order, entry by entry: the sequence runs 1, 2, 3... without gaps or repeats;
each entry was MAC'd with this home's key (``key_id``); ``prev_mac`` is the previous entry's
MAC; the MAC over ``prev_mac`` and the canonical entry holds. Then the head record (kept
apart from the entries) must name an entry that exists with that MAC: a head ahead of the
last entry means the tail was cut off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from garrison.govern.audit.entry import GENESIS, AuditEntry, compute_mac, key_id, same
from garrison.govern.audit.keys import Head

MAC_MISMATCH = "mac mismatch"
CHAIN_BREAK = "chain break"
SEQUENCE_GAP = "sequence gap"
TRUNCATED = "truncated tail"
UNKNOWN_KEY = "unknown key"
HEAD_INVALID = "head record invalid"
HEAD_MISSING = "head record missing"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Result of a verification: ``ok``, or the first broken ``seq`` and why."""

    ok: bool
    entries: int
    seq: int | None = None
    kind: str = ""
    reason: str = ""
    entry: AuditEntry | None = None

    def describe(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.entries} entries"
        return f"audit chain broken at seq {self.seq}: {self.kind}: {self.reason}"


def _broken(n: int, seq: int, kind: str, reason: str, entry: AuditEntry | None) -> Verdict:
    return Verdict(False, n, seq, kind, reason, entry)


def verify_chain(
    entries: Iterable[AuditEntry], key: bytes | None, head: Head | str | None
) -> Verdict:
    """Walk ``entries`` (in stored order) and the head; stop at the first break.

    ``key`` None means no key file exists; ``head`` is the head record, None when absent,
    or a string saying why it could not be used.
    """
    kid = key_id(key) if key is not None else None
    expected, prev_mac, count = 1, GENESIS, 0
    last: AuditEntry | None = None
    for entry in entries:
        count += 1
        if entry.seq != expected:
            how = "missing" if entry.seq > expected else "repeated or out of order"
            return _broken(
                count,
                expected,
                SEQUENCE_GAP,
                f"expected seq {expected}, found {entry.seq} (entry {how})",
                entry,
            )
        if kid is None or not same(entry.key_id, kid):
            why = (
                "no audit key in this home"
                if kid is None
                else "entry key id " + (f"{entry.key_id!r} is not this home's key {kid}")
            )
            return _broken(count, entry.seq, UNKNOWN_KEY, why, entry)
        if not same(entry.prev_mac, prev_mac):
            return _broken(
                count,
                entry.seq,
                CHAIN_BREAK,
                "prev_mac does not match the previous entry's mac",
                entry,
            )
        assert key is not None  # noqa: S101 - narrows the type: kid is None exactly when key is
        if not same(entry.mac, compute_mac(key, prev_mac, entry)):
            return _broken(
                count,
                entry.seq,
                MAC_MISMATCH,
                "the entry's fields do not match its mac (edited)",
                entry,
            )
        if isinstance(head, Head) and head.seq == entry.seq and not same(head.mac, entry.mac):
            return _broken(
                count,
                entry.seq,
                HEAD_INVALID,
                "this entry is not the one the head record names (history replaced)",
                entry,
            )
        prev_mac, expected, last = entry.mac, expected + 1, entry
    return _check_head(count, last, head)


def _check_head(count: int, last: AuditEntry | None, head: Head | str | None) -> Verdict:
    last_seq = last.seq if last is not None else 0
    if isinstance(head, str):
        return _broken(count, max(last_seq, 1), HEAD_INVALID, head, last)
    if head is None:
        if last is None:
            return Verdict(True, 0)
        return _broken(
            count,
            last_seq,
            HEAD_MISSING,
            "entries exist but the head record in the key folder is gone",
            last,
        )
    if head.seq > last_seq:
        return _broken(
            count,
            last_seq + 1,
            TRUNCATED,
            f"the head record says entries run to seq {head.seq}, the log ends at {last_seq}",
            None,
        )
    return Verdict(True, count)
