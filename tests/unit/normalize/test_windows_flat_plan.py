"""``from_flat`` decides per record shape (cached plan) what the key-by-key walk decided.

The walk it replaced is restated here as the reference: EventData items by name (a name
with spaces also without them, the later writer of a name winning), System names to
``fields``, flat-export names renamed (a field already under its convention name wins),
transport metadata left out. Records are generated with colliding names on purpose.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.normalize import _windows_flat as flat
from garrison.normalize._windows_fields import iso_z, plain


def _reference_split(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    nxlog = any(marker in data for marker in flat._NXLOG_MARKERS)
    fields: dict[str, Any] = {}
    renamed: dict[str, Any] = {}
    payload: dict[str, Any] = {}
    for key, value in data.items():
        if (nxlog and key in flat._NXLOG_META) or key in ("@timestamp", "Message"):
            continue
        name = flat._RENAMES.get(key) or (flat._NXLOG_RENAMES.get(key) if nxlog else None)
        if name is not None:
            renamed[name] = plain(value)
        elif key in flat._SYSTEM_NAMES:
            fields[key] = plain(value)
        else:
            payload[key] = plain(value)
            if " " in key:
                payload[key.replace(" ", "")] = plain(value)
    for name, value in renamed.items():
        fields.setdefault(name, value)
    return fields, payload


_KEYS = st.sampled_from(
    [
        "Source Name",
        "SourceName",
        "Process Name",
        "ProcessName",
        "Hostname",
        "Computer",
        "Channel",
        "ThreadID",
        "Execution_ThreadID",
        "UserID",
        "host",
        "Severity",
        "SourceModuleType",
        "EventReceivedTime",
        "Image",
        "Data",
        "Message",
        "@timestamp",
        "Keywords",
        "a b c",
        "abc",
    ]
)
_VALUES = st.one_of(
    st.text(max_size=6), st.integers(-5, 5), st.none(), st.lists(st.text(max_size=3), max_size=2)
)


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=12))
def test_plan_matches_the_key_by_key_walk(extra: dict[str, Any]) -> None:
    data = {"EventID": 1, "TimeCreated": "2020-01-01T00:00:00Z", **extra}
    try:
        got = flat.from_flat(data)
    except Exception as exc:  # the reference must then fail the same way
        assert type(exc).__name__ == "RecordError"
        return
    fields, payload = _reference_split(data)
    # EventType and Data are adjusted after the split (NXLog's EventType dropped, the
    # PowerShell message as Data); everything else must be exactly the walk's result.
    adjusted = {"EventType", "Data"}
    assert {k: v for k, v in got.payload.items() if k not in adjusted} == {
        k: v for k, v in payload.items() if k not in adjusted
    }
    typed = {"EventID", "TimeCreated", "Channel", "Keywords", *flat._INT_FIELDS}  # converted
    for key, value in fields.items():
        if key not in typed and key not in payload:  # event data wins over System values
            assert got.fields[key] == value, key


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=946_684_800_000, max_value=4_102_444_799_999))
def test_iso_z_matches_isoformat(ms: int) -> None:
    seconds, millis = divmod(ms, 1000)
    moment = datetime.fromtimestamp(seconds, tz=UTC) + timedelta(milliseconds=millis)
    assert iso_z(ms) == moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
