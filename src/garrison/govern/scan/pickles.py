"""A whole pickle-based file: one or more pickle streams, joblib's arrays between opcodes.

``pickle.load`` reads one stream and stops at ``STOP``; legacy PyTorch files hold several in
a row (magic number, protocol, system info, the model, storage keys) followed by raw
storage bytes. The first stream must read; the ones that follow it are scanned while the
bytes still start like a pickle (protocol 2+), and raw bytes after them are data no
loader runs. Every stream is read with joblib's array hook: a ``NumpyArrayWrapper`` is
followed by its array (numeric bytes skipped by their exact size, objects as a nested
stream scanned).
"""

from __future__ import annotations

from garrison.govern.scan.joblib_arrays import array_spec, is_wrapper, numeric_end
from garrison.govern.scan.machine import BuildHook, Context, named_global, walk_pickle
from garrison.govern.scan.report import Scan, Unreadable
from garrison.govern.scan.values import Made

#: ``torch.save``'s legacy (non-zip) format starts with this pickled magic number.
TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."
MAX_STREAMS = 64


def joblib_hook(data: bytes, ctx: Context, scan: Scan) -> BuildHook:
    """The ``BUILD`` hook that steps over (or into) the array joblib wrote after a wrapper."""

    def hook(made: Made, pos: int) -> int | None:
        if not is_wrapper(made):
            return None
        spec = array_spec(made.state)
        offset = pos + 1
        if spec.has_object:
            member = f"{ctx.member or ''}@{offset}:object-array"
            inner = Context(ctx.allowlist, member, ctx.persistent_ok, ctx.depth + 1)
            return walk_pickle(data, offset, inner, scan)  # a plain Unpickler: no hook
        return numeric_end(spec, data, offset)

    return hook


def starts_like_stream(data: bytes, offset: int) -> bool:
    return len(data) - offset >= 3 and data[offset] == 0x80 and 2 <= data[offset + 1] <= 5


def scan_pickle_file(data: bytes, ctx: Context, scan: Scan) -> None:
    """Scan every pickle stream of ``data`` (module docstring); an unreadable first stream
    marks the scan unreadable, findings made before stand."""
    if data.startswith(TORCH_LEGACY_MAGIC):
        ctx = Context(ctx.allowlist, ctx.member, True, ctx.depth)
    try:
        end = walk_pickle(data, 0, ctx, scan, joblib_hook(data, ctx, scan))
    except Unreadable as exc:
        scan.unreadable = str(exc)
        return
    for _ in range(MAX_STREAMS):
        if not starts_like_stream(data, end):
            return
        more = Scan()
        try:
            end = walk_pickle(data, end, ctx, more, joblib_hook(data, ctx, more))
        except Unreadable:
            # raw bytes after the streams (legacy PyTorch storages) are data no loader runs,
            # unless what was read names a real global: keep those
            scan.findings.extend(f for f in more.findings if named_global(f))
            return
        scan.findings.extend(more.findings)
