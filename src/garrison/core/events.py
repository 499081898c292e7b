"""The record and event types that flow from ingest to detection.

A ``RawRecord`` is what a source read (one EVTX record, one log line); an ``Event`` is the
normalized form: an OCSF object, the flat field view that Sigma rules match against, the raw
text, and provenance. A record that cannot be turned into an event becomes a ``Quarantined``
entry with its reason, so nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

#: OCSF class ids used across the code base.
CLASS_PROCESS_ACTIVITY = 1007
CLASS_FILE_ACTIVITY = 1001
CLASS_AUTHENTICATION = 3002
CLASS_NETWORK_ACTIVITY = 4001
CLASS_HTTP_ACTIVITY = 4002
CLASS_DNS_ACTIVITY = 4003
CLASS_SSH_ACTIVITY = 4007
CLASS_NETWORK_FILE_ACTIVITY = 4010
CLASS_API_ACTIVITY = 6003
#: OCSF "Base Event": used for Windows events with no closer class; EventData kept verbatim.
CLASS_BASE_EVENT = 0

CLASS_NAMES: dict[int, str] = {
    CLASS_BASE_EVENT: "Base Event",
    CLASS_FILE_ACTIVITY: "File System Activity",
    CLASS_PROCESS_ACTIVITY: "Process Activity",
    CLASS_AUTHENTICATION: "Authentication",
    CLASS_NETWORK_ACTIVITY: "Network Activity",
    CLASS_HTTP_ACTIVITY: "HTTP Activity",
    CLASS_DNS_ACTIVITY: "DNS Activity",
    CLASS_SSH_ACTIVITY: "SSH Activity",
    CLASS_NETWORK_FILE_ACTIVITY: "Network File Activity",
    CLASS_API_ACTIVITY: "API Activity",
}


@dataclass(slots=True)
class RawRecord:
    """One record as a source read it, before normalization.

    ``position`` is the EVTX EventRecordID or the 1-based line number; ``data`` is the parsed
    structure when the format has one (EVTX, JSON) or the line itself; ``text`` is the raw
    text that is kept with the event.
    """

    position: int
    data: Any
    text: str
    #: Extra context a source knows (Zeek ``#path``, the member name inside a zip ...).
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Quarantined:
    """A record that could not be parsed or validated, and why."""

    source_path: str
    position: int | None
    reason: str
    source_format: str = "unknown"
    excerpt: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "source_path": self.source_path,
            "position": self.position,
            "source_format": self.source_format,
            "reason": self.reason,
            "excerpt": self.excerpt,
        }


class Provenance(NamedTuple):
    """Where an event came from: file as given, position in it, batch fingerprint, ingest time.

    Immutable evidence. A named tuple rather than a frozen dataclass: one is built per event,
    and a tuple is built ~3x faster than a frozen dataclass sets its fields.
    """

    source_path: str
    source_format: str
    record_id: int
    batch_fingerprint: str
    ingested_at: int


@dataclass(slots=True)
class Event:
    """A normalized event.

    ``ocsf`` is the OCSF object (``class_uid``, ``time``, ``actor``, ``src_endpoint`` ...);
    ``fields`` is the flat view with the source's original field names (``EventID``,
    ``Channel``, ``Image``, ``CommandLine``; ``id.orig_h`` for Zeek) that rules match;
    ``raw`` is the original text.
    """

    uid: str
    class_uid: int
    time: int
    ocsf: dict[str, Any]
    fields: dict[str, Any]
    raw: str
    provenance: Provenance

    @property
    def source_path(self) -> str:
        return self.provenance.source_path

    @property
    def record_id(self) -> int:
        return self.provenance.record_id
