"""The normalizer contract: a pure function from a ``RawRecord`` to a ``Normalized`` event.

A normalizer raises ``RecordError`` with a human reason when the record cannot be mapped;
the pipeline quarantines it. It must not raise anything else on attacker-controlled input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from garrison.core.events import RawRecord
from garrison.core.plugins import Registry


@dataclass(slots=True)
class Normalized:
    """The normalized content of one record (provenance is added by the pipeline)."""

    class_uid: int
    time: int
    ocsf: dict[str, Any]
    fields: dict[str, Any]


Normalizer = Callable[[RawRecord], Normalized]

#: source format name -> normalizer
NORMALIZERS: Registry[Normalizer] = Registry("normalizer")
