"""Which format a file is (by its bytes, never its name) and the scan that reads it.

A pickle renamed ``.skops``, ``.json`` or ``.npy`` is read as the pickle it is. Formats:
zip (skops, PyTorch, ``.npz``, other), ``.npy``, tar (legacy PyTorch), a joblib file
compressed with gzip/zlib/bz2/xz/lzma (decompressed in memory, bounded), and pickle (any
protocol; joblib's inline arrays included). Anything else is unreadable.
"""

from __future__ import annotations

import bz2
import io
import lzma
import zipfile
import zlib
from collections.abc import Callable

from garrison.govern.scan.archives import scan_tar, scan_zip
from garrison.govern.scan.machine import Context
from garrison.govern.scan.npy import MAGIC as NPY_MAGIC
from garrison.govern.scan.npy import scan_npy
from garrison.govern.scan.pickles import scan_pickle_file, starts_like_stream
from garrison.govern.scan.report import Finding, Scan, Unreadable

MAX_EXPANDED = 1 << 30
_ZLIB_STARTS = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda")


def _decompressor(data: bytes) -> tuple[str, Callable[[], object]] | None:
    if data.startswith(b"\x1f\x8b"):
        return "gzip", lambda: zlib.decompressobj(wbits=31)
    if data.startswith(_ZLIB_STARTS):
        return "zlib", zlib.decompressobj
    if data.startswith(b"BZh"):
        return "bz2", bz2.BZ2Decompressor
    if data.startswith(b"\xfd7zXZ\x00") or data.startswith(b"\x5d\x00\x00"):
        return "xz", lzma.LZMADecompressor
    return None


def _expand(kind: str, make: Callable[[], object], data: bytes) -> bytes:
    """Decompress at most ``MAX_EXPANDED`` bytes (a bomb is unreadable, not expanded)."""
    engine = make()
    try:
        out: bytes = engine.decompress(data, MAX_EXPANDED)  # type: ignore[attr-defined]
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
        raise Unreadable(f"{kind} data unreadable: {exc}") from None
    unconsumed = getattr(engine, "unconsumed_tail", b"")
    needs_input = getattr(engine, "needs_input", True)
    if len(out) >= MAX_EXPANDED and (unconsumed or not needs_input):
        raise Unreadable(f"{kind} data expands beyond {MAX_EXPANDED} bytes")
    return out


def sniff(data: bytes) -> str | None:
    """The container a file's first bytes announce (``None``: maybe a protocol 0/1 pickle,
    maybe nothing)."""
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if data.startswith(NPY_MAGIC):
        return "npy"
    if len(data) > 262 and data[257:262] == b"ustar":
        return "tar"
    if starts_like_stream(data, 0):
        return "pickle"
    found = _decompressor(data)
    return f"{found[0]}-compressed" if found else None


def scan_data(data: bytes, ctx: Context, scan: Scan) -> str:
    """Scan ``data`` as the format it is; returns the format's name. Sets
    ``scan.unreadable`` rather than raising."""
    kind = sniff(data)
    try:
        if kind == "zip":
            return scan_zip(data, ctx, scan, scan_member)
        if kind == "npy":
            scan_npy(data, ctx, scan)
            return "npy"
        if kind == "tar":
            return scan_tar(data, ctx, scan, scan_member)
        found = _decompressor(data) if kind != "pickle" else None
        if found is not None:
            inner = scan_data(_expand(*found, data), ctx, scan)
            return f"{inner}+{found[0]}"
    except Unreadable as exc:
        scan.unreadable = str(exc)
        return kind or "unknown"
    scan_pickle_file(data, ctx, scan)
    _polyglot(data, ctx, scan)
    if scan.unreadable is not None and kind is None and not scan.findings:
        scan.unreadable = f"not a pickle, joblib, PyTorch, NumPy or skops file ({scan.unreadable})"
        return "unknown"
    return "pickle"


def _polyglot(data: bytes, ctx: Context, scan: Scan) -> None:
    """A pickle that is also a zip (a central directory at its end): ``pickle.load`` reads
    the front, ``torch.load`` and ``zipfile`` the archive. Both are scanned, and the
    double reading is itself a finding."""
    if b"PK\x05\x06" not in data[-(1 << 16) - 22 :] or not zipfile.is_zipfile(io.BytesIO(data)):
        return
    inner = Scan()
    try:
        scan_zip(data, ctx, inner, scan_member)
    except Unreadable:
        return  # the bytes only look like an end-of-archive record: data
    scan.add(Finding("polyglot", None, None, 0, None, ctx.member,
                     "also a zip archive: torch.load and zipfile read that instead"))  # fmt: skip
    scan.findings.extend(inner.findings)


def scan_member(data: bytes, ctx: Context, scan: Scan) -> str:
    """An archive member: scanned when it is a model format, skipped (data) otherwise."""
    if sniff(data) is None:
        probe = Scan()
        scan_pickle_file(data, ctx, probe)
        if probe.unreadable is not None and not probe.findings:
            return "data"
    inner = Scan()
    kind = scan_data(data, ctx, inner)
    scan.findings.extend(inner.findings)
    if inner.unreadable is not None and scan.unreadable is None:
        scan.unreadable = f"{ctx.member}: {inner.unreadable}"
    return kind
