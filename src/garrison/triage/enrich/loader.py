"""Read an asset inventory from CSV or YAML, rejecting bad rows with a reason that names them.

CSV: one row per asset and/or identity, header names case-insensitive::

    host,ip,owner,criticality,exposure,tags,vulnerabilities,user,department,privileged
    ws01.corp.example,10.0.0.21,alice,high,internal,finance;laptop,CVE-2021-34527:8.8,,,
    ,,,,,,,bob,IT,yes

A row with ``host`` describes an asset; a row with ``user`` an identity (both may be set).
``tags`` are split on ``;`` or ``,``; ``vulnerabilities`` are ``CVE:CVSS`` pairs split on
``;``; ``changed_at`` + ``change`` record one recent configuration change.

YAML: ``assets:``, ``identities:`` and ``changes:`` lists of mappings with the same keys
(``vulnerabilities`` may be a list of ``{cve, cvss}``; a bare list is read as ``assets``).

Every problem raises ``InputError`` naming the file, the row and the field, so a typo in the
inventory is a one-line message, never a traceback.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from garrison.core import safeyaml
from garrison.core.errors import InputError, RecordError
from garrison.core.timeutil import epoch_to_ms, parse_iso_ms
from garrison.triage.enrich.inventory import (
    CRITICALITIES,
    Asset,
    AssetInventory,
    ConfigChange,
    Identity,
    Vulnerability,
    host_keys,
    ip_key,
)

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_EXPOSURE_ALIASES = {
    "internal": "internal",
    "private": "internal",
    "lan": "internal",
    "dmz": "dmz",
    "internet": "internet",
    "internet-facing": "internet",
    "internet_facing": "internet",
    "external": "internet",
    "public": "internet",
}
_CRIT_ALIASES = {"1": "low", "2": "medium", "3": "high", "4": "critical", "med": "medium"}
_TRUE = {"yes", "y", "true", "1", "t"}
_FALSE = {"no", "n", "false", "0", "f", ""}
_MAX_PROBLEMS_SHOWN = 10
#: An inventory can be large; the YAML depth limit is what protects the loader.
ASSETS_MAX_BYTES = 512 * 1024 * 1024


class _RowError(ValueError):
    pass


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _criticality(value: Any) -> str:
    text = _text(value).lower() or "medium"
    text = _CRIT_ALIASES.get(text, text)
    if text not in CRITICALITIES:
        raise _RowError(f"criticality {value!r} is not one of {', '.join(CRITICALITIES)}")
    return text


def _exposure(value: Any) -> str:
    text = _text(value).lower() or "internal"
    if text not in _EXPOSURE_ALIASES:
        raise _RowError(f"exposure {value!r} is not one of internal, dmz, internet")
    return _EXPOSURE_ALIASES[text]


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [_text(v) for v in value if _text(v)]
    return [p.strip() for p in re.split(r"[;,]", str(value)) if p.strip()]


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _RowError(f"privileged {value!r} is not yes/no")


def _vuln(cve: Any, cvss: Any) -> Vulnerability:
    name = _text(cve).upper()
    if not _CVE.match(name):
        raise _RowError(f"{cve!r} is not a CVE id (CVE-YYYY-NNNN)")
    try:
        score = float(cvss)
    except (TypeError, ValueError):
        raise _RowError(f"CVSS {cvss!r} of {name} is not a number") from None
    if not 0.0 <= score <= 10.0:
        raise _RowError(f"CVSS {score} of {name} is outside 0-10")
    return Vulnerability(name, score)


def _vulns(value: Any) -> tuple[Vulnerability, ...]:
    if value is None or value == "":
        return ()
    out: list[Vulnerability] = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                out.append(_vuln(item.get("cve"), item.get("cvss")))
            else:
                out.extend(_vulns(str(item)))
        return tuple(out)
    for part in re.split(r"[;|]", str(value)):
        if not part.strip():
            continue
        cve, sep, cvss = part.strip().partition(":")
        if not sep:
            raise _RowError(f"vulnerability {part.strip()!r} must be CVE:CVSS")
        out.append(_vuln(cve, cvss))
    return tuple(out)


def _ips(value: Any) -> tuple[str, ...]:
    out: list[str] = []
    for part in _split(value):
        key = ip_key(part)
        if key is None:
            raise _RowError(f"ip {part!r} is not an IP address")
        out.append(key)
    return tuple(out)


def _time(value: Any) -> int:
    try:
        if isinstance(value, dt.datetime):
            stamp = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
            return int(stamp.timestamp() * 1000)
        if isinstance(value, dt.date):
            midnight = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
            return int(midnight.timestamp() * 1000)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return epoch_to_ms(value)
        return parse_iso_ms(_text(value))
    except RecordError as exc:
        raise _RowError(f"time {value!r}: {exc}") from None


def _change(host: str, item: dict[str, Any]) -> ConfigChange:
    when = item.get("time", item.get("changed_at"))
    what = _text(item.get("description", item.get("change")))
    if when in (None, "") or not what:
        raise _RowError("a change needs a time and a description")
    return ConfigChange(host_keys(host)[0], _time(when), what, _text(item.get("by")))


def _asset(row: dict[str, Any]) -> Asset:
    host = _text(row.get("host"))
    if not host or any(c.isspace() for c in host):
        raise _RowError(f"host {host!r} is not a host name")
    asset = Asset(
        host=host,
        ips=_ips(row.get("ip", row.get("ips"))),
        owner=_text(row.get("owner")),
        criticality=_criticality(row.get("criticality")),
        exposure=_exposure(row.get("exposure")),
        tags=tuple(_split(row.get("tags"))),
        vulnerabilities=_vulns(row.get("vulnerabilities", row.get("cves"))),
    )
    if _text(row.get("changed_at")) or _text(row.get("change")):
        asset.changes.append(_change(host, row))
    for item in row.get("changes") or []:
        if not isinstance(item, dict):
            raise _RowError("changes must be a list of mappings")
        asset.changes.append(_change(host, item))
    return asset


def _identity(row: dict[str, Any]) -> Identity:
    user = _text(row.get("user"))
    if not user:
        raise _RowError("user is empty")
    return Identity(
        user=user,
        department=_text(row.get("department")),
        privileged=_bool(row.get("privileged")),
        title=_text(row.get("title")),
    )


def _rows_from_csv(path: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"assets {path}: not UTF-8 text ({exc.reason})") from exc
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames:
        raise InputError(f"assets {path}: empty file (expected a header row)")
    names = [(n or "").strip().lower() for n in reader.fieldnames]
    if "host" not in names and "user" not in names:
        raise InputError(f"assets {path}: the header needs a 'host' or 'user' column")
    for raw in reader:
        values = list(raw.values())
        if len(values) > len(names) or None in raw:
            yield (
                f"row {reader.line_num}",
                {**dict(zip(names, values, strict=False)), "__extra__": 1},
            )
            continue
        yield f"row {reader.line_num}", dict(zip(names, values, strict=False))


def _rows_from_yaml(path: Path) -> Iterable[tuple[str, str, dict[str, Any]]]:
    try:
        # depth and alias limits before composing (a deeply nested file crashes PyYAML)
        data = safeyaml.load(
            path.read_text(encoding="utf-8"), max_bytes=ASSETS_MAX_BYTES, max_nodes=50_000_000
        )
    except UnicodeDecodeError as exc:
        raise InputError(f"assets {path}: not UTF-8 text ({exc.reason})") from exc
    except safeyaml.YamlError as exc:
        raise InputError(f"assets {path}: {exc}") from exc
    if data is None:
        return
    if isinstance(data, list):
        data = {"assets": data}
    if not isinstance(data, dict):
        raise InputError(f"assets {path}: expected a mapping with assets/identities/changes")
    unknown = sorted(set(data) - {"assets", "identities", "changes"})
    if unknown:
        raise InputError(f"assets {path}: unknown sections {unknown}")
    for section in ("assets", "identities", "changes"):
        items = data.get(section) or []
        if not isinstance(items, list):
            raise InputError(f"assets {path}: '{section}' must be a list")
        for i, item in enumerate(items):
            row = item if isinstance(item, dict) else {"__bad__": item}
            yield section, f"{section}[{i}]", row


def load_inventory(path: Path | str) -> AssetInventory:
    """Load an inventory; raise ``InputError`` naming every bad row (up to ten)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"assets file not found: {path}")
    assets: list[Asset] = []
    identities: list[Identity] = []
    changes: list[ConfigChange] = []
    problems: list[str] = []

    def take(section: str, where: str, row: dict[str, Any]) -> None:
        name = _text(row.get("host") or row.get("user"))
        label = f"{where} ({name})" if name else where
        try:
            if "__extra__" in row:
                raise _RowError("more values than header columns")
            if "__bad__" in row:
                raise _RowError(f"expected a mapping, got {row['__bad__']!r}")
            if section == "changes":
                host = _text(row.get("host"))
                if not host:
                    raise _RowError("a change needs a host")
                changes.append(_change(host, row))
                return
            has_host, has_user = bool(_text(row.get("host"))), bool(_text(row.get("user")))
            if section == "assets" and not has_host:
                raise _RowError("an asset needs a host")
            if section == "csv" and not (has_host or has_user):
                raise _RowError("neither host nor user is set")
            if has_host and section != "identities":
                assets.append(_asset(row))
            if has_user or section == "identities":
                identities.append(_identity(row))
        except _RowError as exc:
            problems.append(f"{label}: {exc}")

    try:
        if path.suffix.lower() in (".yml", ".yaml"):
            for section, where, row in _rows_from_yaml(path):
                take(section, where, row)
        else:
            for where, row in _rows_from_csv(path):
                take("csv", where, row)
    except csv.Error as exc:
        raise InputError(f"assets {path}: not a readable CSV file: {exc}") from exc
    except OSError as exc:
        raise InputError(f"assets {path}: cannot read: {exc.strerror or exc}") from exc
    if problems:
        shown = "; ".join(problems[:_MAX_PROBLEMS_SHOWN])
        more = len(problems) - _MAX_PROBLEMS_SHOWN
        suffix = f" (and {more} more)" if more > 0 else ""
        raise InputError(f"assets {path}: {len(problems)} bad row(s): {shown}{suffix}")
    return _attach_changes(assets, identities, changes)


def _attach_changes(
    assets: list[Asset], identities: list[Identity], changes: list[ConfigChange]
) -> AssetInventory:
    inventory = AssetInventory(assets, identities)
    for change in changes:
        for asset in inventory.host(change.host):
            asset.changes.append(change)
    for asset in assets:
        asset.changes.sort(key=lambda c: c.time)
    return inventory
