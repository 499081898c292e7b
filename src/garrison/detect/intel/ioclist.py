"""Plain IOC lists: the simple formats analysts keep by hand or export from a spreadsheet.

- a text file, one indicator per line (``#`` starts a comment), kind guessed from the value;
- a CSV with an ``indicator`` (or ``value``) column and optional ``type``, ``confidence``
  (0-100), ``source``, ``tags``, ``description``;
- a JSON object ``{indicator: {confidence, source, tags, description}}`` or a list of such
  objects with an ``indicator``/``value`` key (or of plain strings).

The reader only splits a file into entries (raw value, its info, where it was); the intel
detector and triage's enrichment each decide what an entry means to them. JSON that is a
STIX bundle or a MISP export is recognised (``structured_kind``) and left to those readers.
Nothing here raises on file content: a file that cannot be used is reported in ``skipped``.
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
DEFAULT_CONFIDENCE = 70


@dataclass(slots=True, frozen=True)
class IocEntry:
    raw: str
    info: dict[str, Any]
    where: str


@dataclass(slots=True)
class IocFile:
    """Entries of one simple IOC file; ``skipped`` says why (part of) it was not read."""

    entries: list[IocEntry] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def guess_kind(value: str) -> tuple[str, str] | None:
    """(kind, canonical value) as triage enrichment keys indicators: a URL counts as its host.

    >>> guess_kind("http://Evil.example/x"), guess_kind("10.0.0.1"), guess_kind("junk value")
    (('domain', 'evil.example'), ('ip', '10.0.0.1'), None)
    """
    text = value.strip().lower()
    if not text:
        return None
    if "://" in text:
        try:
            host = urlsplit(text).hostname or ""
        except ValueError:
            return None
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


def parse_confidence(value: Any) -> int:
    """0-100 from a feed's confidence; the default when absent; ``ValueError`` otherwise."""
    if value in (None, ""):
        return DEFAULT_CONFIDENCE
    number = float(value)
    if number != number or not 0 <= number <= 100:
        raise ValueError(f"confidence {value!r} outside 0-100")
    return int(number)


def split_tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return tuple(t.strip() for t in re.split(r"[;,]", str(value or "")) if t.strip())


def structured_kind(data: Any) -> str | None:
    """ "stix" / "misp" when parsed JSON is a STIX bundle or MISP export, else None."""
    if isinstance(data, dict):
        if data.get("type") == "bundle" or (
            isinstance(data.get("objects"), list) and _stix_objects(data["objects"])
        ):
            return "stix"
        if "Event" in data or isinstance(data.get("response"), list):
            return "misp"
        if data and all(_manifest_entry(v) for v in list(data.values())[:20]):
            return "misp-manifest"
    if isinstance(data, list) and data:
        if _stix_objects(data):
            return "stix"
        if all(isinstance(x, dict) and "Event" in x for x in data[:20]):
            return "misp"
    return None


def _stix_objects(items: list[Any]) -> bool:
    head = [x for x in items[:20] if isinstance(x, dict)]
    return bool(head) and all(
        isinstance(x.get("type"), str) and str(x.get("id", "")).startswith(f"{x['type']}--")
        for x in head
    )


def _manifest_entry(value: Any) -> bool:
    return isinstance(value, dict) and "info" in value and ("Orgc" in value or "date" in value)


def read_ioc_json(path: Path, data: Any) -> IocFile:
    out = IocFile()
    if structured_kind(data) is not None:
        out.skipped.append(f"{path}: STIX/MISP (read by the intel detector)")
        return out
    items: list[tuple[str, dict[str, Any]]] = []
    if isinstance(data, dict):
        items = [(str(k), v if isinstance(v, dict) else {}) for k, v in data.items()]
    elif isinstance(data, list):
        for obj in data:
            if isinstance(obj, dict):
                items.append((str(obj.get("indicator") or obj.get("value") or ""), obj))
            elif isinstance(obj, str):
                items.append((obj, {}))
    for i, (raw, info) in enumerate(items, 1):
        out.entries.append(IocEntry(raw, info, f"{path} item {i}"))
    return out


def read_ioc_text(path: Path, text: str) -> IocFile:
    """A CSV with an indicator/value column, else one indicator per line."""
    out = IocFile()
    first = text.splitlines()[0].lower() if text else ""
    if "indicator" in first.split(",") or "value" in first.split(","):
        try:
            reader = csv.DictReader(text.splitlines())
            for row in reader:
                norm = {(k or "").strip().lower(): v for k, v in row.items()}
                raw = norm.get("indicator") or norm.get("value") or ""
                out.entries.append(IocEntry(str(raw), norm, f"{path} row {reader.line_num}"))
        except csv.Error as exc:
            out.skipped.append(f"{path}: bad CSV ({exc})")
        return out
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            out.entries.append(IocEntry(line, {"source": path.name}, f"{path} line {lineno}"))
    return out


def read_ioc_file(path: Path) -> IocFile:
    """Entries of a simple IOC file (text, CSV or JSON), never raising on its content."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return IocFile(skipped=[f"{path}: cannot read ({exc})"])
    if text.lstrip()[:1] in ("{", "["):
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            return IocFile(skipped=[f"{path}: not JSON ({reason})"])
        return read_ioc_json(path, data)
    return read_ioc_text(path, text)
