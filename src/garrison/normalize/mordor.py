"""The ``mordor`` format (lines of OTRF/Mordor zip captures) -> ``Normalized``.

A capture zip holds Windows event lines and, sometimes, other JSON logs. This module only
dispatches: Windows-shaped lines (``EventID``, ``winlog`` or ``Event``) go to the Windows
normalizer with the capture's clock correction, the others to the generic JSON-lines
normalizer instead of quarantine. Kept apart from both so that neither imports the other
in both directions (the JSON-lines normalizer hands Windows-shaped objects to the Windows
one).
"""

from __future__ import annotations

from garrison.core.events import RawRecord
from garrison.normalize.base import NORMALIZERS, Normalized
from garrison.normalize.jsonl import normalize_jsonl
from garrison.normalize.windows import WINDOWS_KEYS, normalize_windows_line


@NORMALIZERS.register("mordor")
def normalize_mordor(record: RawRecord) -> Normalized:
    """One Mordor/OTRF line: Windows-shaped -> Windows normalizer, anything else -> JSON lines."""
    data = record.data
    if isinstance(data, dict) and not WINDOWS_KEYS.intersection(data):
        return normalize_jsonl(record)
    return normalize_windows_line(record)
