"""Parse EVTX chunks in a child process, so a chunk that hangs the parser cannot hang us.

Why: ``evtx`` 0.14 loops forever, holding the GIL, on some damaged chunks (found by fuzzing:
a string-table or template link that points back into its own chain; upstream knows the
class of bug, omerbenamram/evtx#263, #288, #290). Neither a thread nor a signal can
interrupt it, and a CRC check does not help against a crafted file. So the parser runs in a
worker process with a deadline per chunk; on timeout the reader kills the worker,
quarantines that chunk and carries on with a fresh worker from the next chunk.

Protocol (pipes; frames are u32 little-endian length + ``marshal`` payload):

- request: ``(path, [(index, offset, repair), ...])`` - the chunks of one file to parse, in
  order (``repair``: rewrite the chunk header from the body first);
- answers, streamed as the worker goes: ``(index, items)`` per chunk, each item
  ``(kind, record_id, text)``: ``RECORD`` (text = the record's JSON), ``RECORD_ERROR`` (text
  = the parser's message), ``CHUNK_ERROR``; then ``(-1, [])`` when the request is done.

The worker reads the chunks from the file itself, so nothing large crosses the pipe but
the JSON, and it runs ahead of the reader (bounded by the pipe buffer), parsing the next
chunks on the second core while the main process normalizes. ``marshal`` is safe here: the
bytes come from our own child, never from the input file. The worker caps its address
space, so a parser bug that allocates without bound kills the worker, not the run. Workers
are pooled per process and reused across files; ``python -m garrison.ingest._evtx_worker``
runs one.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import logging
import marshal
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Generator, Iterator, Sequence, Set
from typing import Any

RECORD = 0
RECORD_ERROR = 1
CHUNK_ERROR = 2
BAD_JSON = 3
CHUNK_SIZE = 65536
#: Items past what a 64 KiB chunk can physically hold mean the iterator is not ending.
MAX_ITEMS = (CHUNK_SIZE - 512) // 28 + 16
#: Address-space cap for a worker (bytes). Chunks are 64 KiB; normal use stays far below.
WORKER_MEMORY = 1 << 30
_LEN = 4
_DONE = -1
_PIPE_SIZE = 1 << 20
_log = logging.getLogger(__name__)

#: ``(kind, record_id, text, data)``: data is the record's JSON parsed into a dict.
Items = list[tuple[int, int, str, Any]]


def _json_loads() -> Any:
    """``orjson.loads`` when installed (2-3x faster on EVTX JSON), else ``json.loads``."""
    try:
        import orjson
    except ImportError:
        import json

        return json.loads
    return orjson.loads


_loads = _json_loads()


# ----------------------------------------------------------------------------- child side


def parse_chunk_items(chunk: bytes, repair: bool = False) -> Items:
    """Every record (or error) of one chunk, parsed behind a synthetic file header.

    ``repair``: the reader found that the chunk header hides records of its body, so the
    header is rewritten from the body first (``_evtx_layout.repair_header``): ``evtx``
    reads only what the header admits. (The reader decides, having scanned the body
    already: scanning again here for every chunk would cost a third of the read speed.)
    """
    from evtx import PyEvtxParser

    from garrison.ingest._evtx_layout import SYNTHETIC_HEADER, repair_header

    if repair:
        chunk = repair_header(chunk)
    if len(chunk) < CHUNK_SIZE:  # truncated file: parse what is there
        chunk += bytes(CHUNK_SIZE - len(chunk))
    items: Items = []
    try:
        records = PyEvtxParser(
            io.BytesIO(SYNTHETIC_HEADER + chunk), number_of_threads=1
        ).records_json()
    except Exception as exc:
        return [(CHUNK_ERROR, 0, str(exc) or type(exc).__name__, None)]
    loads = _loads
    for _ in range(MAX_ITEMS):
        try:
            rec = next(records)
        except StopIteration:
            return items
        except Exception as exc:
            items.append((RECORD_ERROR, 0, str(exc) or type(exc).__name__, None))
            continue
        if not isinstance(rec, dict):
            items.append((RECORD_ERROR, 0, f"parser returned {type(rec).__name__}", None))
            continue
        rid = rec.get("event_record_id")
        rid = rid if type(rid) is int else 0
        text = rec.get("data")
        if type(text) is not str:
            items.append((BAD_JSON, rid, "the parser returned no JSON text", None))
            continue
        try:
            items.append((RECORD, rid, text, loads(text)))
        except (TypeError, ValueError) as exc:
            items.append((BAD_JSON, rid, f"{exc}: {str(text)[:200]}", None))
    items.append(
        (
            CHUNK_ERROR,
            0,
            "the parser kept producing items past what a chunk can hold; stopped",
            None,
        )
    )
    return items


def parse_file_chunks(
    path: str, chunks: Sequence[tuple[int, int] | tuple[int, int, bool]]
) -> Iterator[tuple[int, Items]]:
    """``(index, items)`` for each ``(index, offset[, repair])`` of one file, in order."""
    try:
        fh = open(path, "rb")  # noqa: SIM115  (closed below, generator-scoped)
    except OSError as exc:
        for index, *_ in chunks:
            yield index, [(CHUNK_ERROR, 0, f"cannot open the file: {exc}", None)]
        return
    with fh:
        for index, offset, *repair in chunks:
            fh.seek(offset)
            yield index, parse_chunk_items(fh.read(CHUNK_SIZE), bool(repair and repair[0]))


def _write_frame(stream: Any, payload: Any) -> None:
    data = marshal.dumps(payload)
    stream.write(len(data).to_bytes(_LEN, "little"))
    stream.write(data)


def serve(stdin: Any, stdout: Any) -> None:
    """The worker loop: answer each request chunk by chunk until the pipe closes."""
    while True:
        head = stdin.read(_LEN)
        if len(head) < _LEN:
            return
        body = stdin.read(int.from_bytes(head, "little"))
        path, chunks = marshal.loads(body)  # noqa: S302  (our parent wrote these bytes)
        for index, items in parse_file_chunks(path, chunks):
            _write_frame(stdout, (index, items))
            stdout.flush()
        _write_frame(stdout, (_DONE, []))
        stdout.flush()


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    except (ImportError, ValueError, OSError):
        pass


# ----------------------------------------------------------------------------- parent side


class WorkerFailed(Exception):
    """The worker did not answer in time or died; the message says which."""


class ChunkWorker:
    """One child process; one request at a time, answered as a stream of frames."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        #: True while a request's answers have not all been read.
        self.busy = False

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "garrison.ingest._evtx_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        if self.proc.stdout is not None:
            _grow_pipe(self.proc.stdout.fileno())
        self.busy = False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def request(self, path: str, chunks: list[tuple[int, int, bool]]) -> None:
        if not self.alive():
            self.start()
        assert self.proc is not None and self.proc.stdin is not None  # noqa: S101 - narrows the type: start() made the pipes
        data = marshal.dumps((path, chunks))
        try:
            self.proc.stdin.write(len(data).to_bytes(_LEN, "little") + data)
            self.proc.stdin.flush()
        except OSError as exc:
            self.kill()
            raise WorkerFailed(f"the parser worker died ({exc})") from exc
        self.busy = True

    def frame(self) -> tuple[int, Items]:
        """The next answer; ``WorkerFailed`` (and the worker killed) on timeout or death."""
        assert self.proc is not None and self.proc.stdout is not None  # noqa: S101 - narrows the type: start() made the pipes
        fd = self.proc.stdout.fileno()
        head = self._read(fd, _LEN)
        frame = marshal.loads(self._read(fd, int.from_bytes(head, "little")))  # noqa: S302 - our own worker process wrote these bytes
        if type(frame) is not tuple or len(frame) != 2:
            self.kill()
            raise WorkerFailed("the parser worker answered garbage")
        if frame[0] == _DONE:
            self.busy = False
        return frame

    def _read(self, fd: int, size: int) -> bytes:
        deadline = time.monotonic() + self.timeout
        parts: list[bytes] = []
        got = 0
        while got < size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.kill()
                raise WorkerFailed(
                    f"the parser did not finish within {self.timeout:g} s "
                    "(it loops on this chunk); worker stopped"
                )
            data = os.read(fd, min(size - got, _PIPE_SIZE))
            if not data:
                code = self.proc.poll() if self.proc is not None else None
                self.kill()
                raise WorkerFailed(f"the parser worker died on this chunk (exit {code})")
            parts.append(data)
            got += len(data)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def kill(self) -> None:
        proc, self.proc, self.busy = self.proc, None, False
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        proc.wait()


def _grow_pipe(fd: int) -> None:
    """A bigger pipe lets the worker run further ahead (Linux; best effort)."""
    try:
        import fcntl

        fcntl.fcntl(fd, 1031, _PIPE_SIZE)  # F_SETPIPE_SZ
    except (ImportError, OSError):
        pass


class WorkerPool:
    """Idle workers of this process, reused across files; a forked child starts afresh."""

    def __init__(self) -> None:
        self._idle: list[ChunkWorker] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def take(self, timeout: float) -> ChunkWorker:
        with self._lock:
            if self._pid != os.getpid():  # inherited through fork: not ours to use
                self._idle, self._pid = [], os.getpid()
            while self._idle:
                worker = self._idle.pop()
                if worker.alive() and not worker.busy:
                    worker.timeout = timeout
                    return worker
                worker.kill()
        return ChunkWorker(timeout)

    def give(self, worker: ChunkWorker) -> None:
        if worker.busy or not worker.alive() or os.getpid() != self._pid:
            worker.kill()
            return
        with self._lock:
            if len(self._idle) < 4:
                self._idle.append(worker)
                return
        worker.kill()

    def idle(self) -> list[ChunkWorker]:
        with self._lock:
            return list(self._idle)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


POOL = WorkerPool()
atexit.register(POOL.close)


#: ``EvtxSource.isolate`` modes.
ISOLATE_MODES = ("auto", "always", "never")


class ChunkRunner:
    """What the EVTX reader talks to: the items of each chunk of a file, in order, or (as a
    str) why a chunk has none.

    ``isolate``: ``"always"`` parses every chunk in a pooled worker process; ``"auto"`` (the
    default) parses intact chunks (both checksums hold, no link cycle) in-process and sends
    damaged ones to the worker; ``"never"`` parses everything in-process. When no process
    can be started, parsing falls back to in-process (logged as a warning).
    """

    #: After this many chunks of one file hang the parser, the file's remaining chunks are
    #: quarantined unparsed: a crafted file cannot stall the run chunk after chunk.
    max_hangs = 3

    def __init__(self, isolate: str = "auto", timeout: float = 5.0) -> None:
        if isolate not in ISOLATE_MODES:
            raise ValueError(f"isolate must be one of {ISOLATE_MODES}, not {isolate!r}")
        self.isolate = isolate
        self.timeout = timeout
        self.hangs = 0

    def _in_worker(self, intact: bool) -> bool:
        return self.isolate == "always" or (self.isolate == "auto" and not intact)

    def results(
        self, path: str, chunks: list[tuple[int, int, bool]], repair: Set[int] = frozenset()
    ) -> Generator[tuple[int, Items | str]]:
        """``chunks``: (index, offset, intact) in file order; answers come in that order.
        ``repair``: indexes of chunks whose header hides records of their body."""
        start = 0
        while start < len(chunks):
            isolated = self._in_worker(chunks[start][2])
            end = start + 1
            while end < len(chunks) and self._in_worker(chunks[end][2]) == isolated:
                end += 1
            group = [(index, offset, index in repair) for index, offset, _ in chunks[start:end]]
            if isolated:
                try:
                    yield from self._isolated(path, group)
                except OSError as exc:  # no subprocess possible here
                    _log.warning("EVTX parser isolation unavailable (%s); parsing in-process", exc)
                    self.isolate = "never"
                    yield from parse_file_chunks(path, group)
            else:
                yield from parse_file_chunks(path, group)
            start = end

    def _isolated(
        self, path: str, chunks: list[tuple[int, int, bool]]
    ) -> Generator[tuple[int, Items | str]]:
        done = 0
        worker = POOL.take(self.timeout)
        try:
            while done < len(chunks):
                if self.hangs >= self.max_hangs:
                    yield (
                        chunks[done][0],
                        (f"not parsed: {self.hangs} chunks of this file already hung the parser"),
                    )
                    done += 1
                    continue
                try:
                    worker.request(path, chunks[done:])
                except WorkerFailed as exc:
                    yield chunks[done][0], str(exc)
                    done += 1
                    continue
                while done < len(chunks):
                    expected = chunks[done][0]
                    try:
                        index, items = worker.frame()
                    except WorkerFailed as exc:  # killed: restart after this chunk
                        self.hangs += 1
                        yield expected, str(exc)
                        done += 1
                        break
                    if index != expected:
                        worker.kill()
                        yield expected, f"parser worker out of step (chunk {index})"
                        done += 1
                        break
                    done += 1
                    yield index, items
                else:
                    with contextlib.suppress(WorkerFailed):
                        worker.frame()  # the end-of-request frame
        finally:
            if worker.busy:
                worker.kill()
            POOL.give(worker)


if __name__ == "__main__":
    _limit_memory()
    serve(sys.stdin.buffer, sys.stdout.buffer)
