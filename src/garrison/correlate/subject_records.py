"""Other stores that hold a data subject's identifier, as ``PrivacyService`` searches them.

The lake, findings, incidents, UEBA profiles and the vault are searched by
``PrivacyService`` itself; a store owned by a later stage (the response ledger, the API's
upload spool) cannot be imported here, so it offers its records through this protocol and
the top layer hands the providers to the service (``garrison.intake_records``).

Each provider says what it found (``find``: JSON-ready records, exported one per line with
``kind`` = its ``name``) and what it removed, scrubbed or kept and why (``forget``: counts
only - they go to the audit log). ``forget`` without ``apply`` changes nothing and counts
what it would do, like the rest of a dry run.

A scrub replaces each whole-word occurrence of the person (value or token) with
``ERASED``, not with the token: the token is deterministic under the home's key, so
anyone holding the key could still find the person in a row "scrubbed" to it (and a
second export would list the row again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from garrison.govern.privacy import Matcher

#: What a scrubbed occurrence becomes; ``[removed]`` when the person's own value would
#: match ``[erased]`` (a subject named ``erased``), so a scrub never re-creates a match.
ERASED = "[erased]"
_FALLBACK = "[removed]"


class SubjectRecords(Protocol):
    """A store's records about one person, for export and deletion."""

    @property
    def name(self) -> str: ...

    def find(self, matcher: Matcher) -> list[dict[str, Any]]:
        """Every record mentioning the person (JSON-ready, without a ``kind`` key)."""
        ...

    def forget(self, matcher: Matcher, replacement: str, apply: bool) -> dict[str, Any]:
        """Remove or scrub the records (only with ``apply``); counts, never values."""
        ...


@dataclass(slots=True)
class RecordCounts:
    """What ``forget`` did (or, in a dry run, would do): counts and fixed reasons only."""

    found: int = 0
    removed: int = 0
    scrubbed: int = 0
    kept: dict[str, int] = field(default_factory=dict)
    applied: bool = False

    def keep(self, reason: str, count: int = 1) -> None:
        self.kept[reason] = self.kept.get(reason, 0) + count

    def to_json(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "removed": self.removed,
            "scrubbed": self.scrubbed,
            "kept": sum(self.kept.values()),
            "kept_why": dict(sorted(self.kept.items())),
            "applied": self.applied,
        }


def replacement_for(matcher: Matcher) -> str:
    """``ERASED``, unless the person's own value would be found in it."""
    return _FALLBACK if matcher.search(ERASED) else ERASED


def scrub_text(text: str, matcher: Matcher, replacement: str) -> str:
    """``text`` with every whole-word occurrence of the person replaced."""
    return matcher.sub(text, lambda _found: replacement)


def scrub_leaves(obj: Any, matcher: Matcher, replacement: str, depth: int = 0) -> Any:
    """A copy of nested dicts and lists with every text (or number) leaf scrubbed; keys are
    field names and stay (as ``Matcher.in_leaves`` does not search them). A number that
    names the person becomes the replacement text."""
    if depth > 64:
        return obj
    if isinstance(obj, dict):
        return {k: scrub_leaves(v, matcher, replacement, depth + 1) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [scrub_leaves(v, matcher, replacement, depth + 1) for v in obj]
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, str):
        return scrub_text(obj, matcher, replacement)
    text = str(obj)
    return scrub_text(text, matcher, replacement) if matcher.search(text) else obj


def safe_counts(counts: Mapping[str, Any], matcher: Matcher) -> dict[str, Any]:
    """Only numbers, flags and ``{reason: number}`` tables from a provider's counts, and no
    key that names the person: what reaches the audit log can never carry the value,
    whatever a provider returns."""

    def fit(key: object) -> bool:
        return len(str(key)) <= 80 and not matcher.search(str(key))

    out: dict[str, Any] = {}
    for key, value in counts.items():
        if not fit(key):
            continue
        if isinstance(value, bool | int):
            out[str(key)] = value
        elif isinstance(value, Mapping):
            out[str(key)] = {str(k): v for k, v in value.items() if isinstance(v, int) and fit(k)}
    return out
