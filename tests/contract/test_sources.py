"""One contract for every registered source and its normalizer.

Runs over the SOURCES registry, so a new source is covered the moment it registers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import garrison.normalize.builtin  # noqa: F401
from garrison.core.errors import RecordError
from garrison.core.events import Quarantined, RawRecord
from garrison.ingest import SOURCES
from garrison.normalize.base import NORMALIZERS, Normalized

SOURCE_NAMES = [name for name, _ in SOURCES.items() if name != "testkv"]

SAMPLES = [
    b"",
    b"\x00" * 100,
    b"\xff\xfe\x00garbage",
    b"{}\n",
    b"not a log\n",
    b"#fields\tts\n",
    b"PK\x03\x04",
    b"ElfFile\x00" + b"\x00" * 200,
]


def test_every_source_has_a_normalizer() -> None:
    for name, cls in SOURCES.items():
        assert cls.format in NORMALIZERS, f"source {name} has no normalizer"


@pytest.mark.parametrize("name", SOURCE_NAMES)
@pytest.mark.parametrize("head", SAMPLES)
def test_sniff_never_raises(name: str, head: bytes) -> None:
    assert SOURCES.get(name).sniff(head, Path("x")) in (True, False)


@pytest.mark.parametrize("name", SOURCE_NAMES)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(blob=st.binary(max_size=4096))
def test_read_accounts_for_garbage(name: str, blob: bytes, tmp_path: Path) -> None:
    path = tmp_path / "input"
    path.write_bytes(blob)
    source = SOURCES.get(name)()
    for item in source.read(path):
        assert isinstance(item, RawRecord | Quarantined)
        if isinstance(item, Quarantined):
            assert item.reason
        else:
            try:
                norm = NORMALIZERS.get(source.format)(item)
            except RecordError as exc:
                assert str(exc)
            else:
                assert isinstance(norm, Normalized)
                assert isinstance(norm.time, int) and isinstance(norm.fields, dict)
                assert norm.ocsf.get("class_uid", norm.class_uid) == norm.class_uid
