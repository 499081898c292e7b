"""Threat-intelligence context for triage: a simple indicator -> context mapping.

The intel *detector* (STIX bundles, MISP feeds) belongs to detection; triage only needs to
know, for an entity a finding names, whether some feed lists it and how confidently. It
reads the simple formats (split into entries by ``garrison.detect.intel.ioclist``):

- a text file, one indicator per line (``#`` comments), kind guessed from the value;
- a CSV with an ``indicator`` (or ``value``) column and optional ``type``, ``confidence``
  (0-100), ``source``, ``tags``, ``description``;
- a JSON object ``{indicator: {confidence, source, tags, description}}`` or a list of such
  objects with an ``indicator``/``value`` key.

STIX bundles and MISP exports are left to the intel detector (their findings carry the
match in ``explanation["intel"]``, which ``IntelContext.from_finding`` reads). Lines that
cannot be used are counted in ``problems``; intel files never stop a hunt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.detect.intel.ioclist import (
    DEFAULT_CONFIDENCE as _DEFAULT_CONFIDENCE,
)
from garrison.detect.intel.ioclist import (
    IocFile,
    guess_kind,
    read_ioc_file,
)
from garrison.detect.intel.ioclist import (
    parse_confidence as _confidence,
)
from garrison.detect.intel.ioclist import (
    split_tags as _tags,
)
from garrison.detect.intel.warninglists import default_lists

__all__ = ["Indicator", "IntelContext", "guess_kind", "load_intel"]


@dataclass(slots=True, frozen=True)
class Indicator:
    value: str
    kind: str
    confidence: int = _DEFAULT_CONFIDENCE
    source: str = ""
    tags: tuple[str, ...] = ()
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "indicator": self.value,
            "kind": self.kind,
            "confidence": self.confidence,
        }
        if self.source:
            out["source"] = self.source
        if self.tags:
            out["tags"] = list(self.tags)
        if self.description:
            out["description"] = self.description
        return out


@dataclass(slots=True)
class IntelContext:
    """Indicators by canonical value; ``problems`` lists what could not be read."""

    indicators: dict[str, Indicator] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    files_skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.indicators)

    def add(self, raw: str, **info: Any) -> bool:
        guessed = guess_kind(raw)
        if guessed is None:
            return False
        kind, value = guessed
        refusal = default_lists().check(kind, value)
        if refusal is not None:  # too broad to vouch for any entity (8.8.8.8, cloudfront.net)
            raise ValueError(f"{value}: refused by warning list {refusal.list}: {refusal.reason}")
        self.indicators[value] = Indicator(
            value=value,
            kind=kind,
            confidence=_confidence(info.get("confidence")),
            source=str(info.get("source") or ""),
            tags=_tags(info.get("tags")),
            description=str(info.get("description") or "")[:300],
        )
        return True

    def lookup(self, value: str) -> Indicator | None:
        return self.indicators.get(value.strip().lower().rstrip("."))

    @staticmethod
    def from_finding(explanation: dict[str, Any]) -> list[dict[str, Any]]:
        """Intel matches a detector put on its finding, normalised to indicator dicts."""
        carried = explanation.get("intel")
        items = carried if isinstance(carried, list) else [carried] if carried else []
        out: list[dict[str, Any]] = []
        for item in items:
            if not isinstance(item, dict):
                continue
            value = item.get("indicator") or item.get("value") or item.get("pattern") or ""
            try:
                confidence = _confidence(item.get("confidence"))
            except (TypeError, ValueError):
                confidence = _DEFAULT_CONFIDENCE
            entry: dict[str, Any] = {"indicator": str(value)[:300], "confidence": confidence}
            for key in ("kind", "source", "description", "tags"):
                if item.get(key):
                    entry[key] = item[key]
            out.append(entry)
        return out


def _add(ctx: IntelContext, where: str, raw: str, info: dict[str, Any]) -> None:
    try:
        if not ctx.add(str(raw), **info):
            ctx.problems.append(f"{where}: {str(raw)[:60]!r} is not an ip, domain, url or hash")
    except (TypeError, ValueError) as exc:
        ctx.problems.append(f"{where}: {exc}")


def _merge(ctx: IntelContext, read: IocFile) -> None:
    ctx.files_skipped.extend(read.skipped)
    for entry in read.entries:
        _add(ctx, entry.where, entry.raw, entry.info)


def load_intel(paths: list[Path]) -> IntelContext:
    """Indicators from every simple IOC file among ``paths`` (others are skipped, not fatal).

    The files are split into entries by the intel detector's reader
    (``garrison.detect.intel.ioclist``), the earlier stage, so both read them alike.
    """
    ctx = IntelContext()
    for path in paths:
        if Path(path).is_dir():
            ctx.files_skipped.append(f"{path}: a folder (MISP feeds: the intel detector)")
            continue
        _merge(ctx, read_ioc_file(Path(path)))
    return ctx
