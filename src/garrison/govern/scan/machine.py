"""Walk a pickle's opcodes (``pickletools.genops``) on a stack of stand-ins, never loading.

The walk keeps what a loader would keep (stack, marks, memo) with ``values`` stand-ins, so a
name a ``STACK_GLOBAL`` reads from strings pushed earlier or fetched from the memo is known,
and a call is known to target an allowlisted global or not. Findings:

- a global (``GLOBAL``, ``STACK_GLOBAL``, ``INST``) off the allowlist, and its call;
- a ``STACK_GLOBAL`` whose name is not a plain string (built at load time);
- a call (``REDUCE``, ``NEWOBJ(_EX)``, ``OBJ``) of anything but an allowlisted global:
  the result of another call (``getattr(...)(...)`` chains), a memo trick, an unknown;
- ``BUILD`` into a global (state written into a class or function: monkey-patching);
- ``EXT1/2/4`` (a global chosen by a number in copyreg's extension registry);
- a persistent id outside a PyTorch archive (the loader decides what it means);
- a nested pickle (a bytes or latin-1 string constant that is itself one) with findings.

Opcodes with no effect on names use ``pickletools``' own stack-effect tables. A stream the
walk cannot follow (bad opcode, underflow, missing memo, no ``STOP``) stops it: the file is
unreadable, and findings already made stand.
"""

from __future__ import annotations

import contextlib
import io
import pickletools
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

from garrison.govern.scan.allowlist import Allowlist
from garrison.govern.scan.report import Finding, Scan, Unreadable
from garrison.govern.scan.values import UNKNOWN, Const, Dct, Global, Made, Tup

MAX_DEPTH = 4
HIGHEST_PROTOCOL = 5
_STRINGS = frozenset(
    {"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE",
     "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"}
)  # fmt: skip
_SCALARS = frozenset(
    {"INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT"}
)
_PUTS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_GETS = frozenset({"GET", "BINGET", "LONG_BINGET"})
_IGNORED = frozenset({"PROTO", "FRAME"})

#: Called on every ``BUILD`` of an allowlisted object: may read bytes the format keeps
#: after it (joblib's arrays) and returns the offset the walk resumes at (or ``None``).
BuildHook = Callable[[Made, int], int | None]


@dataclass(frozen=True, slots=True)
class Context:
    """How to read one pickle stream: the allowlist, the archive member it is, whether
    persistent ids are the format's own (PyTorch), and how deep in nested pickles."""

    allowlist: Allowlist
    member: str | None = None
    persistent_ok: bool = False
    depth: int = 0


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
#: Findings that count in bytes a plain pickle loader would run but joblib reads as data.
_FORK_KINDS = frozenset({"global"})


def named_global(found: Finding) -> bool:
    """A global finding whose module and name are well-formed (not noise in data bytes)."""
    return found.kind in _FORK_KINDS and all(
        _NAME.match(part or "") is not None for part in (found.module, found.name)
    )


class _Walk:
    def __init__(self, data: bytes, ctx: Context, scan: Scan, hook: BuildHook | None) -> None:
        self.data, self.ctx, self.scan, self.hook = data, ctx, scan, hook
        self.stack: list[object] = []
        self.marks: list[int] = []
        self.memo: dict[int, object] = {}

    # --- stack primitives (an underflow is an unreadable stream) --------------------------

    def pop(self) -> object:
        if len(self.stack) <= (self.marks[-1] if self.marks else 0):
            raise Unreadable("stack underflow")
        return self.stack.pop()

    def pop_mark(self) -> list[object]:
        if not self.marks:
            raise Unreadable("no MARK to pop to")
        at = self.marks.pop()
        items, self.stack[at:] = self.stack[at:], []
        return items

    def top(self) -> object:
        if len(self.stack) <= (self.marks[-1] if self.marks else 0):
            raise Unreadable("stack underflow")
        return self.stack[-1]

    def find(self, kind: str, op: str, pos: int, g: Global | None = None, detail: str = "") -> None:
        self.scan.add(
            Finding(
                kind, g.module if g else None, g.name if g else None, pos, op,
                self.ctx.member, detail or None,
            )
        )  # fmt: skip

    # --- names and calls --------------------------------------------------------------------

    def global_(self, module: str, name: str, op: str, pos: int) -> Global:
        g = Global(module, name, self.ctx.allowlist.allows(module, name))
        if not g.allowed:
            self.find("global", op, pos, g, "not on the allowlist")
        return g

    def call(self, target: object, op: str, pos: int, args: object) -> object:
        if isinstance(target, Global):
            if target.allowed:
                return Made(target, args)
            self.find("call", op, pos, target, "calls a global off the allowlist")
        else:
            what = "the result of a call" if isinstance(target, Made) else "a non-global"
            self.find("call", op, pos, None, f"calls {what} (not an allowlisted global)")
        return UNKNOWN

    def build(self, pos: int) -> int | None:
        state, target = self.pop(), self.top()
        if isinstance(target, Global):
            self.find("build-on-global", "BUILD", pos, target, "writes state into a global")
        elif isinstance(target, Made):
            target.state = state
            resume = self.hook(target, pos) if self.hook else None
            if resume is not None:
                # joblib puts the array it read in the wrapper's place: a later BUILD on it
                # is ndarray.__setstate__, not another inline read
                self.stack[-1] = Made(Global("numpy", "ndarray", True), UNKNOWN)
                if resume > pos + 1:
                    self.plain_reading(pos + 1)
            return resume
        return None

    def plain_reading(self, start: int) -> None:
        """The bytes joblib reads as an array are opcodes to ``pickle.load``: walk them too,
        on a copy of the stack and memo, and keep any global they would name (a payload
        hidden as "array data"). Only well-formed names count: random array bytes that
        happen to parse as an opcode or two are not findings."""
        fork = _Walk(self.data, self.ctx, Scan(), None)
        fork.stack, fork.marks, fork.memo = list(self.stack), list(self.marks), dict(self.memo)
        buf = io.BytesIO(self.data)
        buf.seek(start)
        try:
            for op, arg, pos in pickletools.genops(buf):
                if op.name == "STOP":
                    break
                if op.name not in _IGNORED:
                    fork.step(op, arg, pos if pos is not None else buf.tell())
        except Exception:  # noqa: S110 - array bytes need not parse; findings so far count
            pass  # (any exception: these bytes are read the way pickle.load would, hostile)
        for found in fork.scan.findings:
            if named_global(found):
                self.scan.add(
                    replace(found, detail="hidden as joblib array bytes: pickle.load runs them")
                )

    def nested(self, value: object, pos: int) -> None:
        data = value.encode("latin-1", "ignore") if isinstance(value, str) else value
        if not isinstance(data, bytes | bytearray) or len(data) < 3:
            return
        if data[0] != 0x80 or data[1] > HIGHEST_PROTOCOL:
            return
        member = f"{self.ctx.member or ''}@{pos}:nested"
        if self.ctx.depth >= MAX_DEPTH:
            self.find("too-deep", "nested pickle", pos, None, f"deeper than {MAX_DEPTH}")
            return
        inner = Scan()
        ctx = Context(self.ctx.allowlist, member, self.ctx.persistent_ok, self.ctx.depth + 1)
        # bytes that only start like a pickle are data; what was found in them still counts
        with contextlib.suppress(Unreadable):
            walk_pickle(bytes(data), 0, ctx, inner)
        self.scan.findings.extend(inner.findings)

    # --- one opcode ---------------------------------------------------------------------------

    def step(self, op: pickletools.OpcodeInfo, arg: object, pos: int) -> int | None:
        name = op.name
        if name in _STRINGS:
            self.stack.append(Const(arg))
            self.nested(arg, pos)
        elif name in _SCALARS or name in ("NONE", "NEWTRUE", "NEWFALSE"):
            self.stack.append(Const(arg))
        elif name == "MARK":
            self.marks.append(len(self.stack))
        elif name in _PUTS or name == "MEMOIZE":
            self.memo[len(self.memo) if name == "MEMOIZE" else int(arg)] = self.top()  # type: ignore[call-overload]
        elif name in _GETS:
            if not isinstance(arg, int) or arg not in self.memo:
                raise Unreadable(f"memo key {arg} read before it was written")
            self.stack.append(self.memo[arg])
        else:
            return self.structural(name, arg, pos, op)
        return None

    def structural(
        self, name: str, arg: object, pos: int, op: pickletools.OpcodeInfo
    ) -> int | None:
        if name == "GLOBAL":
            module, _, attr = str(arg).partition(" ")
            self.stack.append(self.global_(module, attr, name, pos))
        elif name == "STACK_GLOBAL":
            top, under = self.pop(), self.pop()
            if isinstance(under, Const) and isinstance(top, Const):
                self.stack.append(self.global_(str(under.value), str(top.value), name, pos))
            else:
                self.find("dynamic-global", name, pos, None, "module or name is not a string")
                self.stack.append(UNKNOWN)
        elif name == "INST":
            module, _, attr = str(arg).partition(" ")
            self.stack.append(
                self.call(
                    self.global_(module, attr, name, pos), name, pos, Tup(tuple(self.pop_mark()))
                )
            )
        elif name == "OBJ":
            items = self.pop_mark()
            if not items:
                raise Unreadable("OBJ with nothing to call")
            self.stack.append(self.call(items[0], name, pos, Tup(tuple(items[1:]))))
        elif name in ("REDUCE", "NEWOBJ"):
            args = self.pop()
            self.stack.append(self.call(self.pop(), name, pos, args))
        elif name == "NEWOBJ_EX":
            kwargs, args = self.pop(), self.pop()
            self.stack.append(self.call(self.pop(), name, pos, Tup((args, kwargs))))
        elif name == "BUILD":
            return self.build(pos)
        elif name in ("EXT1", "EXT2", "EXT4"):
            self.find("extension", name, pos, None, f"copyreg extension code {arg}")
            self.stack.append(UNKNOWN)
        elif name in ("PERSID", "BINPERSID"):
            if name == "BINPERSID":
                self.pop()
            if not self.ctx.persistent_ok:
                self.find("persistent-id", name, pos, None, "a reference only the loader resolves")
            self.stack.append(UNKNOWN)
        else:
            self.containers(name, op)
        return None

    def containers(self, name: str, op: pickletools.OpcodeInfo) -> None:
        if name in ("EMPTY_TUPLE", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3"):
            n = {"TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3, "EMPTY_TUPLE": 0}.get(name)
            items = self.pop_mark() if n is None else [self.pop() for _ in range(n)][::-1]
            self.stack.append(Tup(tuple(items)))
        elif name in ("EMPTY_DICT", "DICT"):
            items = self.pop_mark() if name == "DICT" else []
            self.stack.append(Dct(list(zip(items[::2], items[1::2], strict=False))))
        elif name in ("SETITEM", "SETITEMS"):
            items = [self.pop(), self.pop()][::-1] if name == "SETITEM" else self.pop_mark()
            target = self.top()
            if isinstance(target, Dct):
                target.pairs.extend(zip(items[::2], items[1::2], strict=False))
        elif name == "POP":
            if self.marks and self.marks[-1] == len(self.stack):
                self.marks.pop()
            else:
                self.pop()
        elif name == "DUP":
            self.stack.append(self.top())
        else:
            self._generic(op)

    def _generic(self, op: pickletools.OpcodeInfo) -> None:
        """Any other opcode by ``pickletools``' stack-effect table (lists, sets, buffers)."""
        before = op.stack_before
        if pickletools.markobject in before:
            self.pop_mark()
            before = before[: before.index(pickletools.markobject)]
        for _ in before:
            self.pop()
        self.stack.extend(UNKNOWN for _ in op.stack_after)


def walk_pickle(
    data: bytes, start: int, ctx: Context, scan: Scan, hook: BuildHook | None = None
) -> int:
    """Walk one pickle stream of ``data`` from ``start``; add findings to ``scan``; return
    the offset just past its ``STOP``. Raises ``Unreadable`` when the stream cannot be
    followed (findings made before that stay in ``scan``)."""
    buf = io.BytesIO(data)
    buf.seek(start)
    walk = _Walk(data, ctx, scan, hook)
    with warnings.catch_warnings():
        # pickletools warns on odd escapes in protocol-0 strings: hostile input, not news
        warnings.simplefilter("ignore")
        try:
            for op, arg, pos in pickletools.genops(buf):
                if op.name == "STOP":
                    return buf.tell()
                if op.name in _IGNORED:
                    continue
                resume = walk.step(op, arg, pos if pos is not None else buf.tell())
                if resume is not None:
                    buf.seek(resume)
        except Unreadable as exc:
            raise Unreadable(f"{exc} (byte {buf.tell()})") from None
        except (ValueError, KeyError, IndexError, TypeError, OverflowError, MemoryError) as exc:
            raise Unreadable(f"not a readable pickle stream at byte {buf.tell()}: {exc}") from None
    raise Unreadable("pickle stream ended without STOP")
