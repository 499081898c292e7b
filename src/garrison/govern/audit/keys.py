"""The per-home audit key and the head record, both under ``HOME/keys/`` (0700).

The key (32 random bytes, ``audit.key``, 0600) MACs every entry. A key file that group or
others can read, or that another user owns, is refused: whoever can read it can rewrite
history undetected, so it must be as private as the account that runs Garrison.

The head record (``audit.head``) holds the seq and MAC of the last entry written, itself
MAC'd with the key. It lives beside the key, away from the database, so cutting entries off
the end of the chain (or replacing the database by an older copy, or deleting it) is caught
by anyone who can write ``state.db`` but not ``HOME/keys/``.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from garrison.core.errors import GarrisonError
from garrison.govern.audit.entry import same

KEY_FILE = "audit.key"
HEAD_FILE = "audit.head"
LOCK_FILE = "audit.lock"
KEY_BYTES = 32


class AuditKeyError(GarrisonError):
    """The audit key cannot be used safely (readable by others, wrong owner, wrong size)."""


@dataclass(frozen=True, slots=True)
class Head:
    """The last entry written: its seq and MAC, sealed with the key."""

    seq: int
    mac: str


def _head_seal(key: bytes, seq: int, mac: str) -> str:
    return hmac.new(key, f"garrison-audit-head\n{seq}\n{mac}".encode(), hashlib.sha256).hexdigest()


def _check_private(path: Path, what: str) -> os.stat_result:
    info = path.stat()
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise AuditKeyError(
            f"{what} {path} belongs to uid {info.st_uid}, not to this user: refusing to use it"
        )
    return info


class KeyStore:
    """``HOME/keys``: loads or creates the audit key and reads/writes the head record."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @property
    def key_path(self) -> Path:
        return self.folder / KEY_FILE

    @property
    def head_path(self) -> Path:
        return self.folder / HEAD_FILE

    def has_key(self) -> bool:
        return self.key_path.exists()

    def _ensure_folder(self) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = _check_private(self.folder, "key folder")
        if stat.S_IMODE(info.st_mode) & 0o077:
            # we own it: tighten rather than refuse (it holds nothing readable by others yet
            # unless the key itself is loose, which load() refuses)
            self.folder.chmod(0o700)

    def load(self, create: bool = True) -> bytes | None:
        """The key; created (0600, in a 0700 folder) when missing and ``create`` is set."""
        path = self.key_path
        if not path.exists():
            if not create:
                return None
            self._ensure_folder()
            key = secrets.token_bytes(KEY_BYTES)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first: use theirs
                return self.load(create=False)
            with os.fdopen(fd, "wb") as handle:
                handle.write(key)
                handle.flush()
                os.fsync(handle.fileno())
            return key
        info = _check_private(path, "audit key")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise AuditKeyError(
                f"audit key {path} has permissions {mode:04o}: group or others can read or "
                f"write it, so the audit log cannot be trusted; run `chmod 600 {path}` if "
                "you are sure nobody else has read it, otherwise start a new home"
            )
        if not stat.S_ISREG(info.st_mode):
            raise AuditKeyError(f"audit key {path} is not a regular file")
        key = path.read_bytes()
        if len(key) != KEY_BYTES:
            raise AuditKeyError(f"audit key {path} has {len(key)} bytes, expected {KEY_BYTES}")
        return key

    # -- head record ------------------------------------------------------------------------
    def read_head(self, key: bytes) -> Head | str | None:
        """The head, None when there is none, or a reason string when it is unusable."""
        path = self.head_path
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            seq, mac, seal = int(data["seq"]), str(data["mac"]), str(data["seal"])
        except (OSError, ValueError, KeyError, TypeError):
            return "head record unreadable"
        if not same(seal, _head_seal(key, seq, mac)):
            return "head record seal mismatch (head edited or made with another key)"
        return Head(seq, mac)

    def write_head(self, key: bytes, head: Head) -> None:
        """Move the head forward (never back): atomic replace under a file lock."""
        self._ensure_folder()
        with self._locked():
            current = self.read_head(key)
            if isinstance(current, str):
                return  # a broken head is evidence: leave it for `audit verify` to report
            if current is not None and current.seq >= head.seq:
                return
            data = {"seq": head.seq, "mac": head.mac, "seal": _head_seal(key, head.seq, head.mac)}
            tmp = self.head_path.with_suffix(f".tmp{os.getpid()}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(data))
                handle.flush()
                os.fsync(handle.fileno())
            tmp.replace(self.head_path)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
