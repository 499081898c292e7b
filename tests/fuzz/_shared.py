"""What the line-format fuzz tests share: a byte mutator and the per-record invariants.

Every record a source yields is a RawRecord or a Quarantined with a reason, positions are
strictly increasing, kept text is valid UTF-8, and a normalizer either raises RecordError
with a message or returns an event whose OCSF and fields serialise to JSON.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from garrison.core.errors import RecordError
from garrison.core.events import Quarantined, RawRecord
from garrison.normalize.base import Normalized


def insert_or_delete(
    rng: random.Random, data: bytes, rounds: Sequence[int], junk: Sequence[bytes]
) -> bytes:
    """Up to ``rng.choice(rounds)`` edits: insert one junk token, or delete 1-5 bytes."""
    buf = bytearray(data)
    for _ in range(rng.choice(rounds)):
        pos = rng.randrange(len(buf) + 1)
        if rng.random() < 0.5:
            buf[pos:pos] = rng.choice(junk)
        elif buf:
            del buf[pos : pos + rng.randrange(1, 6)]
    return bytes(buf)


def check_records(
    items: Iterable[Any],
    normalize: Callable[[RawRecord], Normalized],
    *,
    class_in_ocsf: bool = True,
    json_default: Callable[[Any], Any] | None = None,
) -> list[Normalized]:
    """Assert the invariants above; returns the events that normalized, for more checks.

    ``class_in_ocsf`` demands ``ocsf["class_uid"]``; otherwise it is checked only when
    present. ``json_default`` relaxes serialisation (non-JSON values allowed via it) where
    NaN is not rejected.
    """
    out: list[Normalized] = []
    last = 0
    for item in items:
        assert isinstance(item, RawRecord | Quarantined)
        assert isinstance(item.position, int) and item.position > last
        last = item.position
        if isinstance(item, Quarantined):
            assert item.reason
            continue
        item.text.encode("utf-8")
        try:
            norm = normalize(item)
        except RecordError as exc:
            assert str(exc)
            continue
        assert isinstance(norm.time, int) and -(2**63) <= norm.time < 2**63
        if class_in_ocsf:
            assert norm.ocsf["class_uid"] == norm.class_uid
        else:
            assert norm.ocsf.get("class_uid", norm.class_uid) == norm.class_uid
        if json_default is None:
            json.dumps(norm.ocsf, allow_nan=False).encode("utf-8")
            json.dumps(norm.fields, allow_nan=False).encode("utf-8")
        else:
            json.dumps(norm.ocsf, default=json_default).encode("utf-8")
            json.dumps(norm.fields, default=json_default).encode("utf-8")
        out.append(norm)
    return out
