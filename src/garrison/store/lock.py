"""One writer per home, enforced between processes with ``flock``.

A hunt writes Parquet files into the lake and commits them in SQLite afterwards; between
the two, the files are referenced by nothing. Opening the lake removes such files (what a
killed writer left), so a second writer running at the same time would delete the first
one's files before it commits them, and two writers would both find a batch absent and
both store it. A writer therefore holds an exclusive ``flock`` on a file in the lake for as
long as it writes: the next writer waits in line (with a message saying for whom), or
gives up after ``wait`` seconds with a one-line error. The kernel drops the lock when its
process dies, SIGKILL included, so a crashed writer never blocks the home.

Within one process the lock belongs to a thread: the thread holding it may take it again
(counted: ``flock`` locks belong to an open file, so a second open would otherwise wait for
itself), and any other thread waits its turn as another process would, within the same
``wait``. Shared across threads, two request threads of one server would write one lake at
once, each removing the other's not-yet-committed files as a dead writer's leftovers.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from garrison.core.errors import GarrisonError

log = logging.getLogger(__name__)

LOCK_NAME = ".writer.lock"
_POLL_SECONDS = 0.05


class HomeBusy(GarrisonError):
    """Another process writes to this home and did not finish within the wait allowed."""


@dataclass(slots=True)
class _Held:
    fd: int
    count: int
    #: The thread that holds it (``threading.get_ident``).
    thread: int


_held: dict[str, _Held] = {}
#: Per lock file, the turn the threads of this process take (released by whichever thread
#: releases the lock last: a plain ``Lock``, not an ``RLock``).
_turns: dict[str, threading.Lock] = {}
_guard = threading.Lock()


class WriterLock:
    """The exclusive writer lock of one lake folder; ``release`` or process exit frees it."""

    def __init__(
        self,
        folder: Path,
        what: str = "the event lake",
        hint: str = "raise [hunt] lock_wait in garrison.toml",
    ) -> None:
        self.path = folder / LOCK_NAME
        #: Named in the messages: what is busy, and what the waiting user may do.
        self.what, self.hint = what, hint
        self._key = os.path.realpath(self.path)
        self._owned = False

    def acquire(self, wait: float | None = None) -> None:
        """Take the lock, waiting up to ``wait`` seconds (``None`` or negative: as long as
        it takes; 0: not at all). Raises ``HomeBusy`` when the wait runs out."""
        if wait is not None and wait < 0:
            wait = None
        me = threading.get_ident()
        with _guard:
            held = _held.get(self._key)
            if held is not None and held.thread == me:
                held.count += 1
                self._owned = True
                return
            turn = _turns.setdefault(self._key, threading.Lock())
        started = time.monotonic()
        self._wait_for_turn(turn, wait)
        left = None if wait is None else max(0.0, wait - (time.monotonic() - started))
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                self._wait_for(fd, left)
            except BaseException:
                os.close(fd)
                raise
        except BaseException:
            turn.release()
            raise
        _write_owner(fd)
        with _guard:
            _held[self._key] = _Held(fd, 1, me)
        self._owned = True

    def _wait_for_turn(self, turn: threading.Lock, wait: float | None) -> None:
        """Wait while another thread of this process holds the lock."""
        if turn.acquire(blocking=False):
            return
        holder = f"another thread of this process (pid {os.getpid()})"
        if wait is not None and wait <= 0:
            raise HomeBusy(_busy_message(self, holder))
        if not turn.acquire(timeout=-1 if wait is None else wait):
            raise HomeBusy(_busy_message(self, holder, wait))

    def try_acquire(self) -> bool:
        """Take the lock only if no other process holds it; ``True`` when taken."""
        try:
            self.acquire(wait=0)
        except HomeBusy:
            return False
        return True

    def _wait_for(self, fd: int, wait: float | None) -> None:
        if _try_flock(fd):
            return
        holder = _read_owner(fd)
        if wait is not None and wait <= 0:
            raise HomeBusy(_busy_message(self, holder))
        limit = "without a limit" if wait is None else f"up to {wait:g} s"
        log.warning(
            "%s %s is in use by %s; waiting %s for it to finish",
            self.what,
            self.path.parent,
            holder,
            limit,
        )
        deadline = None if wait is None else time.monotonic() + wait
        while not _try_flock(fd):
            if deadline is not None and time.monotonic() >= deadline:
                raise HomeBusy(_busy_message(self, _read_owner(fd), wait))
            time.sleep(_POLL_SECONDS)

    def release(self) -> None:
        """Give the lock back (the last holder in this process unlocks and closes)."""
        if not self._owned:
            return
        self._owned = False
        with _guard:
            held = _held.get(self._key)
            if held is None:
                return
            held.count -= 1
            if held.count > 0:
                return
            del _held[self._key]
            turn = _turns[self._key]
        try:
            fcntl.flock(held.fd, fcntl.LOCK_UN)
        finally:
            os.close(held.fd)
            turn.release()

    @property
    def owned(self) -> bool:
        return self._owned


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _write_owner(fd: int) -> None:
    """Note who holds the lock, for the message a waiting writer prints (advisory text)."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    text = f"pid {os.getpid()} since {stamp}".encode()
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, text, 0)
    except OSError:  # a full disk must not stop the lock itself from working
        pass


def _read_owner(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    printable = "".join(ch for ch in text if ch.isprintable())
    return f"another writer ({printable})" if printable else "another writer"


def _busy_message(lock: WriterLock, holder: str, waited: float | None = None) -> str:
    after = f" after waiting {waited:g} s" if waited else ""
    return (
        f"{lock.what} {lock.path.parent} is in use by {holder}{after}; "
        f"let it finish, or {lock.hint}, or use another --home"
    )


__all__ = ["LOCK_NAME", "HomeBusy", "WriterLock"]
