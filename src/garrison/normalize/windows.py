"""Windows events -> ``Normalized``: EVTX records, Mordor/OTRF lines, Windows-shaped JSON.

``fields`` follows the flat Windows convention (docs/architecture.md, "Event fields": System
values under their own names, ``Provider_Name``, ``Execution_ProcessID``,
``Security_UserID``; every EventData item by its name; UserData leaves; unnamed ``<Data>``
joined as ``Data``; names with spaces also stored without them). The OCSF object comes from
one mapping shared by every input shape (``_windows_ocsf``): Authentication, Process,
Network, DNS and File System Activity for the Security and Sysmon events listed in
``_windows_map.yaml``, Base Event for everything else.

Flat exports (Mordor/OTRF) are mapped to the same names: ``Hostname`` -> ``Computer``,
``SourceName``/``ProviderName`` -> ``Provider_Name``, channel case canonicalised, NXLog
transport metadata (``host`` is the collector, ``EventTime`` is local time, NXLog's own
``EventType``) kept out of ``fields``, and Sysmon's registry ``EventType`` restored when
NXLog overwrote it. Times: Sysmon ``UtcTime`` when present, NXLog ``EventTime`` corrected to
UTC with its offset to ``@timestamp``, else ``TimeCreated``.
"""

from __future__ import annotations

from typing import Any

from garrison.core.events import RawRecord
from garrison.ingest.mordor import CLOCK_OFFSET_META
from garrison.normalize._windows_fields import WinFlat, from_evtx, iso_z
from garrison.normalize._windows_flat import from_flat
from garrison.normalize._windows_ocsf import build_ocsf
from garrison.normalize.base import NORMALIZERS, Normalized

#: Keys that make a JSON object a Windows event (OTRF/flat, Winlogbeat, EVTX JSON).
WINDOWS_KEYS = frozenset({"EventID", "winlog", "Event"})


def _normalized(flat: WinFlat) -> Normalized:
    class_uid, ocsf = build_ocsf(flat)
    return Normalized(class_uid, flat.time, ocsf, flat.fields)


def normalize_evtx_dict(data: Any) -> Normalized:
    """One record of ``evtx`` JSON (``{"Event": {"System": ..., "EventData": ...}}``)."""
    return _normalized(from_evtx(data))


def normalize_windows_dict(data: dict) -> Normalized:
    """A flat Windows-shaped dict (Mordor/OTRF JSON line, or EVTX JSON written as a line).

    Raises ``RecordError`` when the dict has no usable EventID or timestamp.
    """
    return _normalized(from_flat(data))


@NORMALIZERS.register("evtx")
def normalize_evtx(record: RawRecord) -> Normalized:
    flat = from_evtx(record.data)
    class_uid, ocsf = build_ocsf(flat)
    return Normalized(class_uid, flat.time, ocsf, flat.fields)


def normalize_windows_line(record: RawRecord) -> Normalized:
    """A Windows-shaped Mordor/OTRF line: ``normalize_windows_dict``, plus the capture's clock
    correction (``meta["clock_offset_ms"]``, learnt by the Mordor source from Sysmon
    ``UtcTime``) for records whose only time is the exporter's local ``TimeCreated``.

    The ``mordor`` format's normalizer (``normalize.mordor``) calls this for Windows lines and
    the JSON-lines normalizer for the others.
    """
    flat = from_flat(record.data)
    offset = record.meta.get(CLOCK_OFFSET_META) if record.meta else None
    if type(offset) is int and offset and flat.time_source == "TimeCreated":
        flat.time += offset
        flat.fields["TimeCreated"] = iso_z(flat.time)
    return _normalized(flat)
