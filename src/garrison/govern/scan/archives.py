"""Zip and tar containers: skops, PyTorch, NumPy ``.npz``, and anything zipped.

Each member is read (bounded: a member announcing more than ``MAX_MEMBER`` bytes is not
read) and scanned for what its format loads:

- skops (a ``schema.json`` member): ``skops.io.get_untrusted_types`` (read from the schema,
  nothing imported) against the allowlist; its ``.npy``/``.npz`` members must hold no
  pickled object array, and no member may be a pickle;
- PyTorch (``*/data.pkl``): every ``.pkl`` member is a pickle whose persistent ids are
  storages of the archive; TorchScript code (``.py`` members) is a finding;
- ``.npz``: every ``.npy`` member;
- any other zip, and a tar (PyTorch's legacy tar format): every member that is a model
  format in its own right is scanned as a file.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Callable, Iterator

from garrison.govern.scan.machine import Context, named_global
from garrison.govern.scan.npy import MAGIC as NPY_MAGIC
from garrison.govern.scan.npy import scan_npy
from garrison.govern.scan.pickles import scan_pickle_file, starts_like_stream
from garrison.govern.scan.report import Finding, Scan, Unreadable

MAX_MEMBER = 1 << 30
MAX_DEPTH = 4
#: Scans one member's bytes as a file of any format (formats.scan_data), for nesting.
ScanData = Callable[[bytes, Context, Scan], str]


def _members(archive: zipfile.ZipFile) -> Iterator[tuple[str, bytes]]:
    for info in archive.infolist():
        if info.is_dir():
            continue
        if info.file_size > MAX_MEMBER:
            raise Unreadable(f"zip member {info.filename} announces {info.file_size} bytes")
        try:
            yield info.filename, archive.read(info)
        except Exception as exc:  # zipfile raises many kinds on a hostile member
            raise Unreadable(f"zip member {info.filename} unreadable: {exc}") from None


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # BadZipFile, ValueError, OSError, EOFError...
        raise Unreadable(f"not a readable zip archive: {exc}") from None


def _within(ctx: Context, member: str, persistent_ok: bool = False) -> Context:
    where = f"{ctx.member}/{member}" if ctx.member else member
    return Context(ctx.allowlist, where, persistent_ok, ctx.depth + 1)


def scan_zip(data: bytes, ctx: Context, scan: Scan, scan_data: ScanData) -> str:
    """Scan a zip archive; returns the format it turned out to be."""
    if ctx.depth >= MAX_DEPTH:
        scan.add(Finding("too-deep", None, None, None, "zip", ctx.member, "nested archives"))
        return "zip"
    with _open_zip(data) as archive:
        names = archive.namelist()
        members = _members(archive)
        if "schema.json" in names:
            _skops(data, members, ctx, scan)
            return "skops"
        if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            _torch(members, ctx, scan)
            return "pytorch-zip"
        if names and all(n.endswith(".npy") for n in names):
            for name, body in members:
                scan_npy(body, _within(ctx, name), scan)
            return "npz"
        for name, body in members:
            scan_data(body, _within(ctx, name), scan)
        return "zip"


def _smuggled(name: str, body: bytes, ctx: Context, scan: Scan) -> None:
    """A member that is not its format's but is a pickle (any protocol: one that reads to
    ``STOP``, or names anything): scan it, and say so."""
    inner = Scan()
    scan_pickle_file(body, _within(ctx, name), inner)
    if starts_like_stream(body, 0) or inner.unreadable is None or inner.findings:
        scan.add(Finding("archive-member", None, None, 0, None, _within(ctx, name).member,
                         "a pickle where the format holds none"))  # fmt: skip
        scan.findings.extend(inner.findings)


def _skops(data: bytes, members: Iterator[tuple[str, bytes]], ctx: Context, scan: Scan) -> None:
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # skops raises many kinds on a hostile schema
        raise Unreadable(f"not a readable skops file: {exc}") from None
    for dotted in sorted(set(untrusted)):
        module, _, name = dotted.rpartition(".")
        if not ctx.allowlist.allows(module, name):
            scan.add(Finding("skops-type", module, name, None, "schema.json", ctx.member,
                             "a type skops would build, off the allowlist"))  # fmt: skip
    for name, body in members:
        if name == "schema.json":
            continue  # read by get_untrusted_types above
        if name.endswith(".npy") and body.startswith(NPY_MAGIC):
            scan_npy(body, _within(ctx, name), scan, objects_allowed=False)
        elif name.endswith(".npz") and body.startswith(b"PK"):
            with _open_zip(body) as inner:
                for sub, npy in _members(inner):
                    scan_npy(npy, _within(_within(ctx, name), sub), scan, objects_allowed=False)
        else:
            _smuggled(name, body, ctx, scan)


def _torch(members: Iterator[tuple[str, bytes]], ctx: Context, scan: Scan) -> None:
    for name, body in members:
        if name.endswith(".pkl"):
            scan_pickle_file(body, _within(ctx, name, persistent_ok=True), scan)
        elif name.endswith(".py"):
            scan.add(Finding("archive-member", None, None, None, None, _within(ctx, name).member,
                             "TorchScript code, run when the archive is loaded"))  # fmt: skip
        elif starts_like_stream(body, 0):
            inner = Scan()
            scan_pickle_file(body, _within(ctx, name, persistent_ok=True), inner)
            scan.findings.extend(f for f in inner.findings if named_global(f))


def scan_tar(data: bytes, ctx: Context, scan: Scan, scan_data: ScanData) -> str:
    """PyTorch's legacy tar format (and any tar): every member scanned as a file."""
    if ctx.depth >= MAX_DEPTH:
        scan.add(Finding("too-deep", None, None, None, "tar", ctx.member, "nested archives"))
        return "tar"
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for info in archive.getmembers():
                if not info.isfile():
                    continue
                if info.size > MAX_MEMBER:
                    raise Unreadable(f"tar member {info.name} announces {info.size} bytes")
                handle = archive.extractfile(info)
                body = handle.read() if handle else b""
                inner = _within(ctx, info.name, persistent_ok=True)
                scan_data(body, inner, scan)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise Unreadable(f"not a readable tar archive: {exc}") from None
    return "tar"
