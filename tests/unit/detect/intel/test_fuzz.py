"""Intel readers never raise on garbage: any JSON, any bytes, any pattern text."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.detect.intel.loader import load_intel_files
from garrison.detect.intel.stix_pattern import Unsupported, compile_pattern

_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=40)
_KEYS = st.sampled_from(
    [
        "type",
        "id",
        "pattern",
        "objects",
        "Event",
        "Attribute",
        "Object",
        "value",
        "to_ids",
        "deleted",
        "valid_from",
        "valid_until",
        "confidence",
        "revoked",
        "Tag",
        "name",
        "response",
        "indicator",
        "external_references",
        "relationship_type",
        "source_ref",
        "target_ref",
        "kill_chain_phases",
        "timestamp",
        "labels",
        "pattern_type",
    ]
) | st.text(max_size=8)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_KEYS, inner, max_size=6),
    max_leaves=30,
)
_STIX_INDICATOR = st.fixed_dictionaries(
    {
        "type": st.just("indicator"),
        "id": st.just("indicator--1"),
        "pattern": st.text(max_size=60)
        | st.sampled_from(["[domain-name:value = 'a.example']", "[ipv4-addr:value = 'x']"]),
    },
    optional={
        "valid_from": _SCALARS,
        "valid_until": _SCALARS,
        "confidence": _SCALARS,
        "revoked": _SCALARS,
        "labels": _JSON,
        "kill_chain_phases": _JSON,
        "external_references": _JSON,
        "pattern_type": _SCALARS,
    },
)
_MISP_ATTRIBUTE = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["ip-dst|port", "domain|ip", "filename|md5", "url", "sha256"])
        | st.text(max_size=10),
        "value": _SCALARS,
    },
    optional={"to_ids": _SCALARS, "deleted": _SCALARS, "Tag": _JSON, "timestamp": _SCALARS},
)


def _load(tmp: Path, name: str, data: bytes) -> None:
    path = tmp / name
    path.write_bytes(data)
    intel = load_intel_files([path])
    assert not intel.report.files_failed.get(str(path), "").startswith("reader error")


@settings(max_examples=200, deadline=None)
@given(_JSON)
def test_any_json_loads_or_is_reported(tmp_path_factory, data) -> None:
    _load(tmp_path_factory.mktemp("j"), "x.json", json.dumps(data).encode())


@settings(max_examples=150, deadline=None)
@given(st.lists(_STIX_INDICATOR | _JSON, max_size=5))
def test_stix_shaped_garbage(tmp_path_factory, objects) -> None:
    bundle = {"type": "bundle", "id": "bundle--1", "objects": objects}
    _load(tmp_path_factory.mktemp("s"), "b.json", json.dumps(bundle).encode())


@settings(max_examples=150, deadline=None)
@given(st.lists(_MISP_ATTRIBUTE | _JSON, max_size=5), _JSON)
def test_misp_shaped_garbage(tmp_path_factory, attributes, tags) -> None:
    event = {"Event": {"Attribute": attributes, "Tag": tags, "Object": [{"Attribute": attributes}]}}
    _load(tmp_path_factory.mktemp("m"), "e.json", json.dumps(event).encode())


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes(tmp_path_factory, data) -> None:
    _load(tmp_path_factory.mktemp("b"), "x.txt", data)


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=80)
    | st.from_regex(r"\[[a-z0-9:.' =-]{0,40}\]( (OR|AND) \[[a-z0-9:.' =-]{0,30}\])?")
)
def test_patterns_compile_or_are_unsupported(text) -> None:
    with contextlib.suppress(Unsupported):
        compile_pattern(text)
