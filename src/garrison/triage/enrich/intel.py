"""Threat-intelligence context for triage: a simple indicator -> context mapping.

The intel *detector* (STIX bundles, MISP feeds) belongs to detection; triage only needs to
know, for an entity a finding names, whether some feed lists it and how confidently. It
reads the simple formats itself:

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

import csv
import ipaddress
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_HEX = re.compile(r"^[0-9a-f]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9_-]{1,63}\.)+[a-z0-9-]{2,63}$")
_DEFAULT_CONFIDENCE = 70


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


def guess_kind(value: str) -> tuple[str, str] | None:
    """(kind, canonical value) of an indicator, or None when it is not one we can match.

    >>> guess_kind("http://Evil.example/x"), guess_kind("10.0.0.1"), guess_kind("junk value")
    (('domain', 'evil.example'), ('ip', '10.0.0.1'), None)
    """
    text = value.strip().lower()
    if not text:
        return None
    if "://" in text:
        host = urlsplit(text).hostname or ""
        return guess_kind(host) if host else None
    try:
        return "ip", str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if _HEX.match(text) and len(text) in (32, 40, 64):
        return "hash", text
    text = text.rstrip(".")
    if _DOMAIN.match(text):
        return "domain", text
    return None


def _confidence(value: Any) -> int:
    if value in (None, ""):
        return _DEFAULT_CONFIDENCE
    number = float(value)
    if number != number or not 0 <= number <= 100:
        raise ValueError(f"confidence {value!r} outside 0-100")
    return int(number)


def _tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return tuple(t.strip() for t in re.split(r"[;,]", str(value or "")) if t.strip())


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


def _read_json(ctx: IntelContext, path: Path, data: Any) -> None:
    if isinstance(data, dict) and (data.get("type") == "bundle" or "Event" in data):
        ctx.files_skipped.append(f"{path}: STIX/MISP (read by the intel detector)")
        return
    items: list[tuple[str, dict[str, Any]]] = []
    if isinstance(data, dict):
        items = [(k, v if isinstance(v, dict) else {}) for k, v in data.items()]
    elif isinstance(data, list):
        for obj in data:
            if isinstance(obj, dict):
                items.append((str(obj.get("indicator") or obj.get("value") or ""), obj))
            elif isinstance(obj, str):
                items.append((obj, {}))
    for i, (raw, info) in enumerate(items, 1):
        _add(ctx, f"{path} item {i}", raw, info)


def _add(ctx: IntelContext, where: str, raw: str, info: dict[str, Any]) -> None:
    try:
        if not ctx.add(str(raw), **info):
            ctx.problems.append(f"{where}: {str(raw)[:60]!r} is not an ip, domain, url or hash")
    except (TypeError, ValueError) as exc:
        ctx.problems.append(f"{where}: {exc}")


def load_intel(paths: list[Path]) -> IntelContext:
    """Indicators from every simple IOC file among ``paths`` (others are skipped, not fatal)."""
    ctx = IntelContext()
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            ctx.files_skipped.append(f"{path}: cannot read ({exc})")
            continue
        head = text.lstrip()[:1]
        if head in ("{", "["):
            try:
                _read_json(ctx, path, json.loads(text))
            except json.JSONDecodeError as exc:
                ctx.files_skipped.append(f"{path}: not JSON ({exc.msg})")
            continue
        first = text.splitlines()[0].lower() if text else ""
        if "indicator" in first.split(",") or "value" in first.split(","):
            try:
                reader = csv.DictReader(text.splitlines())
                for row in reader:
                    norm = {(k or "").strip().lower(): v for k, v in row.items()}
                    raw = norm.get("indicator") or norm.get("value") or ""
                    _add(ctx, f"{path} row {reader.line_num}", raw, norm)
            except csv.Error as exc:
                ctx.files_skipped.append(f"{path}: bad CSV ({exc})")
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if line:
                _add(ctx, f"{path} line {lineno}", line, {"source": Path(path).name})
    return ctx
