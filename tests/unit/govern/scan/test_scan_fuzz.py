"""Hostile input never crashes the scanner, and its verdicts hold under generated input:
any bytes give a verdict (never an exception); every strict prefix of a benign pickle or
joblib file is not "safe"; pickles of arbitrary plain data are safe at every protocol;
the same data with a payload anywhere inside is unsafe."""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.govern.scan import FileReport, scan_bytes
from garrison.govern.scan.files import SCANNER_FAULT
from tests.unit.govern.scan.corpus import _Reduce, benign_files, benign_pickles

FUZZ = settings(
    max_examples=int(os.environ.get("SCAN_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PREFIXES = [
    b"",
    b"\x80\x04",
    b"\x80\x02",
    b"PK\x03\x04",
    b"\x93NUMPY\x01\x00",
    b"\x1f\x8b",
    b"x\x9c",
    b"(c",
]
_BENIGN = sorted(benign_pickles().items())
_FILES = sorted(benign_files().items())


def _holds(report: FileReport) -> None:
    """A verdict, a reason when unreadable, and never the scanner's own last-resort catch
    (an exception inside the scanner is a bug these tests hunt)."""
    assert report.verdict in ("safe", "unsafe", "unreadable")
    assert report.verdict != "unreadable" or report.reason
    assert not (report.reason or "").startswith(SCANNER_FAULT), report.reason


plain_data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    | st.frozensets(st.integers(), max_size=3),
    max_leaves=15,
)  # fmt: skip


@FUZZ
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=300))
def test_any_bytes_get_a_verdict(prefix: bytes, body: bytes) -> None:
    _holds(scan_bytes(prefix + body))


@FUZZ
@given(st.data())
def test_mutated_benign_files_never_crash(data: st.DataObject) -> None:
    _, blob = data.draw(st.sampled_from(_FILES))
    at = data.draw(st.integers(0, len(blob) - 1))
    flipped = bytearray(blob)
    flipped[at] ^= 1 << data.draw(st.integers(0, 7))
    cut = data.draw(st.integers(0, len(blob)))
    for mutated in (bytes(flipped), blob[:cut]):
        _holds(scan_bytes(mutated))


@FUZZ
@given(st.data())
def test_a_truncated_pickle_is_never_safe(data: st.DataObject) -> None:
    _, blob = data.draw(st.sampled_from(_BENIGN))
    if blob[:2] in (b"\x1f\x8b", b"x\x9c", b"x\x01", b"x^", b"x\xda"):
        return  # compressed joblib: a prefix is a zlib error, checked by the fuzz above
    cut = data.draw(st.integers(0, len(blob) - 1))
    assert scan_bytes(blob[:cut]).verdict != "safe"


@FUZZ
@given(value=plain_data, protocol=st.integers(0, 5))
def test_plain_data_is_safe(value: object, protocol: int) -> None:
    assert scan_bytes(pickle.dumps(value, protocol=protocol)).verdict == "safe"


@FUZZ
@given(value=plain_data, protocol=st.integers(0, 5), where=st.integers(0, 3))
def test_a_payload_anywhere_is_unsafe(value: object, protocol: int, where: int) -> None:
    evil = _Reduce(os.system, f"touch {Path('/nonexistent/marker')}")
    wrapped = [
        [value, evil],
        {"k": evil, "v": value},
        (value, (value, evil)),
        {"a": [value, {"b": evil}]},
    ][where]
    report = scan_bytes(pickle.dumps(wrapped, protocol=protocol))
    assert report.verdict == "unsafe"
    assert any((f.module, f.name) == ("posix", "system") for f in report.findings)


def test_joblib_of_random_arrays_is_safe() -> None:
    import joblib
    import numpy as np

    rng = np.random.default_rng(3)
    for dtype in ("f8", "f4", "i8", "i4", "u1", "?", "U7", "S3", "c16", "M8[s]"):
        arr = rng.integers(0, 200, size=(17, 3)).astype(dtype)
        for order in ("C", "F"):
            buf = io.BytesIO()
            joblib.dump({"a": np.asarray(arr, order=order), "b": [arr[0]]}, buf)
            report = scan_bytes(buf.getvalue())
            assert report.verdict == "safe", (dtype, order, report)
