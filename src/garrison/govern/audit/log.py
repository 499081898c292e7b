"""The audit log service: an append-only, HMAC-chained list of privileged actions.

``SqliteAuditLog`` keeps the entries in the home's SQLite state (table ``audit_log``, WAL)
and the key and head record under ``HOME/keys/``; ``MemoryAuditLog`` is its twin for tests.
Both share ``append`` / ``entries`` / ``verify``; callers receive one as a service object
(``open_audit(home)`` builds the home's real one), never through global state.

What it protects against: someone who can write ``state.db`` but cannot read
``HOME/keys/audit.key`` cannot edit, insert, delete, reorder or re-key entries, nor cut
entries off the end or swap in an older copy of the database, without ``garrison audit
verify`` naming the first broken entry. A break is never repaired by later appends: the next
seq continues after the head record's, so a cut-off tail stays visible as a gap.

What it does not protect against: anyone who can read the key (root, the account itself,
a backup of ``HOME/keys``) can rewrite the whole history and its head consistently; deleting
both the database and ``HOME/keys`` (the whole home) leaves nothing to compare against, so
deletion of everything is detected only if a copy of the head is kept elsewhere. That copy is
``export_head`` (``garrison audit head``): kept outside the home, ``verify(exported)`` proves
any later rewrite of the entries it covers, re-MAC'd or not (see ``head``). Entries are
evidence of what Garrison was asked to do, not proof that the action's effect on other
stores happened; the actor is the operating-system account that ran
the command, and any analyst name given on the command line is a claim recorded in details.
"""

from __future__ import annotations

import fnmatch
import getpass
import os
import secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, cast

from garrison.core.timeutil import now_ms
from garrison.govern.audit.chain import Verdict, verify_chain
from garrison.govern.audit.entry import FIELDS, GENESIS, AuditEntry, seal
from garrison.govern.audit.head import ExportedHead, check_export, head_of
from garrison.govern.audit.keys import Head, KeyStore
from garrison.store.state import StateDB

KEYS_DIR = "keys"
STATE_FILE = "state.db"

DDL = """
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY,
    time INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    details TEXT NOT NULL,
    key_id TEXT NOT NULL,
    prev_mac TEXT NOT NULL,
    mac TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log(action);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
"""


def current_actor() -> str:
    """The operating-system account running this process (what we actually know)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


class AuditLog(ABC):
    """Append privileged actions; list them; verify the chain."""

    def append(
        self,
        action: str,
        target: str = "",
        outcome: str = "ok",
        details: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> AuditEntry:
        """Write one entry (details redacted and canonicalised) and move the head forward."""
        key = self._key(create=True)
        if key is None:  # an explicit check: an assert vanishes under python -O
            raise RuntimeError("no audit key: an entry is never written unsealed")
        with self._writing() as (tail_seq, tail_mac, head):
            seq = max(tail_seq, head.seq if head else 0) + 1
            entry = seal(
                key,
                seq,
                now_ms(),
                actor if actor is not None else current_actor(),
                action,
                target,
                outcome,
                details,
                tail_mac or GENESIS,
            )
            self._insert(entry)
        self._write_head(key, Head(entry.seq, entry.mac))
        return entry

    def ready(self) -> None:
        """Load (or create) the key now, raising ``AuditKeyError`` if it is unsafe.

        Called before a privileged action so an action that could not be audited is refused
        rather than done silently.
        """
        self._key(create=True)

    def verify(self, exported: ExportedHead | None = None) -> Verdict:
        """The chain and its head record; with ``exported`` (a head kept outside the home),
        also that the chain still holds at its seq exactly the entries it names."""
        entries = self._all()
        verdict = self._verify(entries)
        if not verdict.ok or exported is None:
            return verdict
        checked = check_export(entries, exported)
        return verdict if checked.ok else checked

    def export_head(self) -> tuple[Verdict, ExportedHead]:
        """The verdict on the chain and its exportable head (export only an intact one)."""
        entries = self._all()
        return self._verify(entries), head_of(entries)

    def _verify(self, entries: list[AuditEntry]) -> Verdict:
        key = self._key(create=False)
        head = self._read_head(key) if key is not None else None
        return verify_chain(entries, key, head)

    # -- backend ----------------------------------------------------------------------------
    @abstractmethod
    def entries(self, limit: int | None = None, action: str | None = None) -> list[AuditEntry]:
        """Newest first; ``action`` is a glob (``allowlist.*``)."""

    @abstractmethod
    def _all(self) -> list[AuditEntry]: ...

    @abstractmethod
    def _key(self, create: bool) -> bytes | None: ...

    @abstractmethod
    def _writing(self) -> AbstractContextManager[tuple[int, str | None, Head | None]]:
        """Exclusive write: yields (tail seq, tail mac, head); commits on a clean exit."""

    @abstractmethod
    def _insert(self, entry: AuditEntry) -> None: ...

    @abstractmethod
    def _read_head(self, key: bytes) -> Head | str | None: ...

    @abstractmethod
    def _write_head(self, key: bytes, head: Head) -> None: ...


class MemoryAuditLog(AuditLog):
    """The in-memory twin: same chain, same verification; ``rows`` and ``head`` are open so
    tests can tamper with them."""

    def __init__(self, key: bytes | None = None) -> None:
        self.key: bytes | None = key if key is not None else secrets.token_bytes(32)
        self.rows: list[AuditEntry] = []
        self.head: Head | str | None = None
        self._lock = threading.RLock()

    def entries(self, limit: int | None = None, action: str | None = None) -> list[AuditEntry]:
        rows = [r for r in reversed(self.rows) if action is None or _glob(r.action, action)]
        return rows if limit is None else rows[: max(0, limit)]

    def _all(self) -> list[AuditEntry]:
        return list(self.rows)

    def _key(self, create: bool) -> bytes | None:
        return self.key

    @contextmanager
    def _writing(self) -> Iterator[tuple[int, str | None, Head | None]]:
        with self._lock:
            tail = self.rows[-1] if self.rows else None
            head = self.head if isinstance(self.head, Head) else None
            yield (tail.seq if tail else 0), (tail.mac if tail else None), head

    def _insert(self, entry: AuditEntry) -> None:
        self.rows.append(entry)

    def _read_head(self, key: bytes) -> Head | str | None:
        return self.head

    def _write_head(self, key: bytes, head: Head) -> None:
        if isinstance(self.head, str):
            return
        if self.head is None or self.head.seq < head.seq:
            self.head = head


class SqliteAuditLog(AuditLog):
    """Entries in ``audit_log`` of the home's ``StateDB``; key and head in ``keys``."""

    def __init__(self, state: StateDB, keys: KeyStore | Path) -> None:
        self.state = state
        self.keys = keys if isinstance(keys, KeyStore) else KeyStore(keys)
        self.state.ensure(DDL)
        self._cached_key: bytes | None = None

    def entries(self, limit: int | None = None, action: str | None = None) -> list[AuditEntry]:
        where, params = ("WHERE action GLOB ?", [action]) if action is not None else ("", [])
        sql = f"SELECT {', '.join(FIELDS)} FROM audit_log {where} ORDER BY seq DESC"  # noqa: S608 - column names from the FIELDS constant; values are bound
        if limit is not None:
            sql += " LIMIT ?"
            params.append(str(max(0, limit)))
        return [_row(r) for r in self.state.query(sql, tuple(params))]

    def _all(self) -> list[AuditEntry]:
        rows = self.state.query(f"SELECT {', '.join(FIELDS)} FROM audit_log ORDER BY seq")  # noqa: S608 - column names from the FIELDS constant; values are bound
        return [_row(r) for r in rows]

    def _key(self, create: bool) -> bytes | None:
        if self._cached_key is None:
            self._cached_key = self.keys.load(create=create)
        return self._cached_key

    @contextmanager
    def _writing(self) -> Iterator[tuple[int, str | None, Head | None]]:
        key = self._key(create=True)
        if key is None:  # an explicit check: an assert vanishes under python -O
            raise RuntimeError("no audit key: an entry is never written unsealed")
        with self.state.transaction() as conn:
            row = conn.execute(
                "SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            head = self.keys.read_head(key)
            yield (
                (int(row[0]) if row else 0),
                (str(row[1]) if row else None),
                head if isinstance(head, Head) else None,
            )

    def _insert(self, entry: AuditEntry) -> None:
        marks = ", ".join("?" for _ in FIELDS)
        self.state.execute(
            f"INSERT INTO audit_log ({', '.join(FIELDS)}) VALUES ({marks})",  # noqa: S608 - column names from the FIELDS constant; values are bound
            tuple(getattr(entry, f) for f in FIELDS),
        )

    def _read_head(self, key: bytes) -> Head | str | None:
        return self.keys.read_head(key)

    def _write_head(self, key: bytes, head: Head) -> None:
        self.keys.write_head(key, head)


def _row(row: tuple[object, ...]) -> AuditEntry:
    values = dict(zip(FIELDS, row, strict=True))
    return AuditEntry(
        seq=int(cast(int, values["seq"])),
        time=int(cast(int, values["time"])),
        actor=str(values["actor"]),
        action=str(values["action"]),
        target=str(values["target"]),
        outcome=str(values["outcome"]),
        details=str(values["details"]),
        key_id=str(values["key_id"]),
        prev_mac=str(values["prev_mac"]),
        mac=str(values["mac"]),
    )


def _glob(value: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


def open_audit(home: Path | str, state: StateDB | None = None) -> SqliteAuditLog:
    """The home's audit log: ``HOME/state.db`` (or the given state) and ``HOME/keys``."""
    root = Path(home)
    return SqliteAuditLog(state or StateDB(root / STATE_FILE), root / KEYS_DIR)


def audit_for_state(state: StateDB) -> AuditLog:
    """The log beside a state database: its home's real log (key in ``keys/`` next to the
    file), or an in-memory twin for an in-memory database."""
    if state.path == ":memory:":
        return MemoryAuditLog()
    return SqliteAuditLog(state, Path(state.path).parent / KEYS_DIR)
