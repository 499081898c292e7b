"""Load every ``--intel`` path into one ``IntelSet``, whatever its format, never raising.

Each path is a file or a folder. A folder with a ``manifest.json`` is a MISP feed (the
events it lists, ``<uuid>.json`` beside it); any other folder is read file by file. A file
is recognised by content: JSON that is a STIX bundle (or object list), a MISP export or a
MISP feed manifest goes to its reader; other JSON, CSV and text go through the plain IOC
list reader (``ioclist``), each entry typed by its ``type`` column when it has one, else
guessed from the value (URLs stay URLs here, unlike triage's host-level keying).

A file that cannot be read (missing, too large, not UTF-8, broken JSON, a reader error) is
recorded in the report with its reason and the hunt goes on; so is every unusable entry,
and every indicator a warning list refuses as too broad (``warninglists``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from garrison.detect.intel.ioclist import (
    IocFile,
    parse_confidence,
    read_ioc_json,
    read_ioc_text,
    split_tags,
    structured_kind,
)
from garrison.detect.intel.misp import read_misp
from garrison.detect.intel.model import Indicator, IntelSet, reason_of
from garrison.detect.intel.stix import read_stix
from garrison.detect.intel.values import canonical, classify
from garrison.detect.intel.warninglists import WarningLists, default_lists

#: Larger intel files are refused (reported), not read into memory.
MAX_FILE_BYTES = 512 * 1024 * 1024
_UUID = re.compile(r"^[0-9a-fA-F-]{1,64}$")
#: IOC-list ``type`` column values -> kind.
_TYPE_COLUMN = {
    "ip": "ip",
    "ipv4": "ip",
    "ipv6": "ip",
    "ip-src": "ip",
    "ip-dst": "ip",
    "ipv4-addr": "ip",
    "ipv6-addr": "ip",
    "domain": "domain",
    "hostname": "domain",
    "domain-name": "domain",
    "fqdn": "domain",
    "url": "url",
    "uri": "url",
    "md5": "hash",
    "sha1": "hash",
    "sha256": "hash",
    "sha512": "hash",
    "hash": "hash",
    "email": "email",
    "email-src": "email",
    "email-addr": "email",
}


def load_intel_files(paths: Iterable[Path], skip_lists: Iterable[str] = ()) -> IntelSet:
    """Every path into one set; over-broad indicators refused by the warning lists
    (``warninglists.py``) except those named in ``skip_lists``."""
    skip = tuple(skip_lists)
    intel = IntelSet(warnings=WarningLists(skip) if skip else default_lists())
    for path in paths:
        load_path(intel, Path(path))
    return intel


def load_path(intel: IntelSet, path: Path) -> None:
    try:
        if path.is_dir():
            _folder(intel, path)
        else:
            _file(intel, path)
    except Exception as exc:  # a hostile feed must not stop the hunt
        intel.report.fail(str(path), f"reader error: {type(exc).__name__}: {exc}")


def _folder(intel: IntelSet, folder: Path) -> None:
    manifest = folder / "manifest.json"
    if manifest.is_file():
        data = _json(intel, manifest)
        if data is not None:
            _feed(intel, folder, data)
        return
    for child in sorted(p for p in folder.iterdir() if p.is_file()):
        load_path(intel, child)


def _feed(intel: IntelSet, folder: Path, manifest: Any) -> None:
    """The events a MISP feed manifest lists, each from ``<uuid>.json`` in the folder."""
    if not isinstance(manifest, dict):
        intel.report.fail(str(folder / "manifest.json"), "not a MISP feed manifest")
        return
    intel.report.files.append(str(folder / "manifest.json"))
    for uuid in sorted(str(k) for k in manifest):
        if not _UUID.match(uuid):
            intel.report.reject("misp feed: manifest key is not a uuid", f"{folder} {uuid[:64]}")
            continue
        event_file = folder / f"{uuid}.json"
        data = _json(intel, event_file)
        if data is not None:
            read_misp(data, f"{folder.name}/{event_file.name}", intel)


def _read_text(intel: IntelSet, path: Path) -> str | None:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            intel.report.fail(str(path), f"larger than {MAX_FILE_BYTES // 2**20} MiB")
            return None
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        intel.report.fail(str(path), f"cannot read ({exc.strerror or exc})")
        return None
    except UnicodeDecodeError:
        intel.report.fail(str(path), "not UTF-8 text")
        return None
    return text


def _json(intel: IntelSet, path: Path) -> Any:
    text = _read_text(intel, path)
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        intel.report.fail(str(path), f"not JSON ({exc})")
        return None


def _file(intel: IntelSet, path: Path) -> None:
    text = _read_text(intel, path)
    if text is None:
        return
    if text.lstrip()[:1] not in ("{", "["):
        intel.report.files.append(str(path))
        _entries(intel, read_ioc_text(path, text), path.name)
        return
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        intel.report.fail(str(path), f"not JSON ({exc})")
        return
    kind = structured_kind(data)
    if kind == "misp-manifest":
        _feed(intel, path.parent, data)
        return
    intel.report.files.append(str(path))
    if kind == "stix":
        read_stix(data, path.name, intel)
    elif kind == "misp":
        read_misp(data, path.name, intel)
    else:
        _entries(intel, read_ioc_json(path, data), path.name)


def _entries(intel: IntelSet, read: IocFile, default_source: str) -> None:
    for reason in read.skipped:
        intel.report.reject("ioc list: part of the file not read", reason)
    for entry in read.entries:
        try:
            indicator = _ioc(entry.raw, entry.info, default_source)
        except (TypeError, ValueError) as exc:
            intel.report.reject(f"ioc list: {reason_of(exc)}", f"{entry.where}: {exc}")
            continue
        if indicator is None:
            intel.report.reject(
                "ioc list: not an ip, domain, url, hash or e-mail",
                f"{entry.where}: {entry.raw[:60]!r}",
            )
        else:
            intel.add(indicator)


def _ioc(raw: str, info: dict[str, Any], default_source: str) -> Indicator | None:
    declared = _TYPE_COLUMN.get(str(info.get("type") or "").strip().lower())
    if declared is not None:
        found: tuple[str, str] | None = (declared, canonical(declared, raw))
    else:
        found = classify(raw)
    if found is None:
        return None
    stated = info.get("confidence") not in (None, "")
    confidence = parse_confidence(info.get("confidence")) if stated else None
    labels = split_tags(info.get("tags"))
    return Indicator(
        kind=found[0],
        value=found[1],
        source=str(info.get("source") or default_source)[:200],
        confidence=confidence,
        labels=labels[:30],
        description=str(info.get("description") or "")[:500],
        feed_type="ioc-list",
    )
