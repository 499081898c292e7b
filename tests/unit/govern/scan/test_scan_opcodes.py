"""The opcode walk, case by case: what is a finding, what is unreadable, what is safe."""

from __future__ import annotations

import io
import pickle
import tarfile
import zipfile

import numpy as np
import pytest

from garrison.govern.scan import default_allowlist, scan_bytes
from tests.unit.govern.scan.corpus import b, call, g, reduce_os_system, s, stream

SAFE_DICT = stream(b"}(" + s("a") + b"K\x01u")


def _kinds(data: bytes) -> list[str]:
    return [f.kind for f in scan_bytes(data).findings]


def test_a_plain_dict_is_safe() -> None:
    assert scan_bytes(SAFE_DICT).verdict == "safe"


@pytest.mark.parametrize("op", [b"\x82\x01", b"\x83\x01\x00", b"\x84\x01\x00\x00\x00"])
def test_extension_codes_are_findings(op: bytes) -> None:
    assert _kinds(stream(op)) == ["extension"]


def test_build_into_a_global_is_a_finding() -> None:
    patch = g("collections", "OrderedDict") + b"N}(" + s("x") + b"K\x01u\x86b"
    assert "build-on-global" in _kinds(stream(patch))


def test_calling_the_result_of_a_call_is_a_finding() -> None:
    # an allowlisted constructor's result called again: not an allowlisted global
    made = call(g("collections", "OrderedDict"))
    assert _kinds(stream(made + b")R")) == ["call"]


def test_persistent_ids_only_inside_a_pytorch_archive() -> None:
    pid = stream(s("storage") + b"Q")
    assert _kinds(pid) == ["persistent-id"]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("archive/data.pkl", pid)
        archive.writestr("archive/data/0", b"\x00" * 8)
    report = scan_bytes(out.getvalue())
    assert (report.verdict, report.format) == ("safe", "pytorch-zip")


def test_a_name_computed_at_load_time_is_a_finding() -> None:
    module = call(g("_codecs", "encode"), s("bf"), s("rot_13"))
    assert "dynamic-global" in _kinds(stream(module + s("system") + b"\x93"))


def test_dotted_names_are_not_prefix_matches() -> None:
    assert default_allowlist().allows("numpy", "dtype")
    assert not default_allowlist().allows("numpy", "dtype.__init__")
    assert not default_allowlist().allows("numpy.dtype", "__init__")
    assert _kinds(stream(g("numpy", "dtype.__init__.__globals__"))) == ["global"]


def test_py2_names_are_mapped_like_the_loader_does() -> None:
    report = scan_bytes(b"c__builtin__\nset\n(]tR.")
    assert report.verdict == "safe"
    assert _kinds(b"c__builtin__\neval\n(S'1'\ntR.") == ["global", "call"]


def test_deep_nesting_is_a_finding() -> None:
    data = reduce_os_system(__import__("pathlib").Path("/nonexistent"))
    for _ in range(6):
        data = stream(b(data))
    assert "too-deep" in _kinds(data)


def test_truncated_payload_keeps_its_findings() -> None:
    data = reduce_os_system(__import__("pathlib").Path("/nonexistent"))
    report = scan_bytes(data[:-1])
    assert report.verdict == "unsafe"


@pytest.mark.parametrize(
    "data", [b"", b"hello world", b"\x80\x04\x95", b"PK\x03\x04junk", b"\x93NUMPY\x01"]
)
def test_garbage_is_unreadable_with_a_reason(data: bytes) -> None:
    report = scan_bytes(data)
    assert report.verdict == "unreadable" and report.reason


def test_numeric_npy_is_safe_and_truncated_npy_unreadable() -> None:
    out = io.BytesIO()
    np.save(out, np.arange(100.0))
    assert scan_bytes(out.getvalue()).verdict == "safe"
    assert scan_bytes(out.getvalue()[:-8]).verdict == "unreadable"


def test_legacy_pytorch_stream_sequence() -> None:
    """Magic number, protocol, sys info and the model as consecutive pickles (the model's
    storages by persistent id), then raw storage bytes: the payload in the 4th is found."""
    parts = [
        pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2),
        pickle.dumps(1001, protocol=2),
        pickle.dumps({"little_endian": True}, protocol=2),
        stream(s("storage") + b"Q"),
    ]
    clean = b"".join(parts) + b"\x80\x02" + b"\x00" * 30
    assert scan_bytes(clean).verdict == "safe"
    evil = b"".join(parts[:3]) + reduce_os_system(__import__("pathlib").Path("/x"))
    assert scan_bytes(evil).verdict == "unsafe"


def test_tar_member_payload_is_found() -> None:
    out = io.BytesIO()
    body = reduce_os_system(__import__("pathlib").Path("/x"))
    with tarfile.open(fileobj=out, mode="w") as archive:
        info = tarfile.TarInfo("pickle")
        info.size = len(body)
        archive.addfile(info, io.BytesIO(body))
    report = scan_bytes(out.getvalue())
    assert report.verdict == "unsafe" and report.findings[0].member == "pickle"


def test_payload_hidden_as_joblib_array_bytes_is_found() -> None:
    """A wrapper (without the alignment byte, as older joblib wrote it) followed by "array
    data" that is really opcodes: joblib skips them, ``pickle.load`` would run them."""
    hidden = g("posix", "system") + b"(" + s("id") + b"tR0"
    dtype = (
        call(g("numpy", "dtype"), s("u1"), b"\x89\x88")
        + b"(K\x03"
        + s("|")
        + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    )
    state = (
        b"}("
        + s("shape")
        + b"K"
        + bytes([len(hidden)])
        + b"\x85"
        + s("order")
        + s("C")
        + s("dtype")
        + dtype
        + b"u"
    )
    wrapper = g("joblib.numpy_pickle", "NumpyArrayWrapper") + b")\x81" + state + b"b"
    data = stream(wrapper + hidden)
    findings = scan_bytes(data).findings
    assert any(f.name == "system" and f.detail and "joblib" in f.detail for f in findings)


def test_compression_bomb_is_not_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    import zlib

    from garrison.govern.scan import formats

    monkeypatch.setattr(formats, "MAX_EXPANDED", 1 << 16)
    report = scan_bytes(zlib.compress(b"\x00" * (1 << 20)))
    assert report.verdict == "unreadable" and "expands beyond" in (report.reason or "")


def test_a_pickle_that_is_also_a_zip_is_scanned_both_ways() -> None:
    """A benign pickle in front, a PyTorch-shaped zip with a payload behind it: pickle.load
    reads the front, torch.load the archive."""
    from tests.unit.govern.scan.corpus import torch_zip

    data = pickle.dumps({"a": 1}, protocol=4) + torch_zip(__import__("pathlib").Path("/x"))
    assert zipfile.is_zipfile(io.BytesIO(data))
    kinds = _kinds(data)
    assert "polyglot" in kinds and "global" in kinds


def test_protocol0_pickle_smuggled_into_skops_is_found() -> None:
    import skops.io as sio

    clean = sio.dumps({"w": np.arange(3.0)})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(clean)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("notes.txt", b"cposix\nsystem\n(S'id'\ntR.")
    assert "archive-member" in _kinds(out.getvalue())
    assert scan_bytes(clean).verdict == "safe"


def test_a_second_build_on_a_joblib_array_is_not_another_array() -> None:
    """joblib replaces the wrapper by its array: a BUILD after that is the array's
    __setstate__, so bytes after it are opcodes again (and a payload there is found)."""
    import joblib

    buf = io.BytesIO()
    joblib.dump(np.arange(4.0), buf)
    data = buf.getvalue()
    assert data.endswith(b".")
    evil = data[:-1] + b"N" + b"b" + b"0" + g("posix", "system") + b"(" + s("id") + b"tR0."
    assert ("posix", "system") in {(f.module, f.name) for f in scan_bytes(evil).findings}


def test_exponential_shape_tuple_is_bounded() -> None:
    """A shape tuple whose each level holds the one below twice (memo): 2**60 nodes."""
    body = b"K\x01"
    for _ in range(60):
        body += b"\x94" + b"h" + bytes([_]) + b"\x86"
    state = b"}(" + s("shape") + body + s("dtype") + call(g("numpy", "dtype"), s("f8")) + b"u"
    data = stream(g("joblib.numpy_pickle", "NumpyArrayWrapper") + b")\x81" + state + b"b")
    report = scan_bytes(data)
    assert report.verdict == "unreadable" and "too large" in (report.reason or "")
