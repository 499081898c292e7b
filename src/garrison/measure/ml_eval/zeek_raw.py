"""Reading the Stratosphere Zeek captures for evaluation, ground-truth labels included.

The hunt's Zeek source moves the ``label`` / ``detailedlabel`` columns out of the fields so
no detector ever sees them. The evaluation needs them, so it reads the raw files itself:
each row becomes an ``Event`` shaped like the normalizer's (Zeek field names in ``fields``,
OCSF endpoints in ``ocsf``) **without** the label columns, and the labels are returned on
the side, keyed by the event uid.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from garrison.core.events import (
    CLASS_DNS_ACTIVITY,
    CLASS_HTTP_ACTIVITY,
    CLASS_NETWORK_ACTIVITY,
    CLASS_SSH_ACTIVITY,
    Event,
    Provenance,
)

LABEL_COLUMNS = ("label", "detailedlabel")
_CLASS_OF_PATH = {
    "conn": CLASS_NETWORK_ACTIVITY,
    "http": CLASS_HTTP_ACTIVITY,
    "ssl": CLASS_NETWORK_ACTIVITY,
    "dns": CLASS_DNS_ACTIVITY,
    "ssh": CLASS_SSH_ACTIVITY,
}


@dataclass(slots=True, frozen=True)
class Label:
    label: str
    detailed: str


@dataclass(slots=True)
class LabelledEvent:
    event: Event
    label: Label | None
    path: str


def _path_of(file: Path, header_path: str | None) -> str:
    if header_path:
        return header_path
    return file.name.split(".")[0].replace("labeled-", "")


def _typed(value: str) -> Any:
    if value in ("-", "(empty)", ""):
        return None
    return value


def _rows(file: Path) -> Iterator[tuple[int, dict[str, Any], str, str | None]]:
    """(line number, row dict, raw line, #path) for TSV and JSON-lines Zeek logs."""
    names: list[str] = []
    sep = "\t"
    header_path: str | None = None
    with file.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("#"):
                if line.startswith("#separator"):
                    sep = line.split(" ", 1)[1].encode().decode("unicode_escape")
                elif line.startswith("#fields"):
                    names = line.split(sep)[1:]
                elif line.startswith("#path"):
                    header_path = line.split(sep)[1]
                continue
            if line.startswith("{"):
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(obj, dict):
                    yield number, obj, line, header_path
                continue
            cells = line.split(sep)
            if names and len(cells) == len(names):
                yield (
                    number,
                    {n: _typed(c) for n, c in zip(names, cells, strict=True)},
                    line,
                    header_path,
                )


def _ocsf(row: dict[str, Any], class_uid: int) -> dict[str, Any]:
    ocsf: dict[str, Any] = {
        "class_uid": class_uid,
        "src_endpoint": {"ip": row.get("id.orig_h"), "port": row.get("id.orig_p")},
        "dst_endpoint": {"ip": row.get("id.resp_h"), "port": row.get("id.resp_p")},
    }
    if row.get("host"):
        ocsf["http_request"] = {"url": {"hostname": row["host"]}}
    if row.get("server_name"):
        ocsf["tls"] = {"sni": row["server_name"]}
    return ocsf


def read_capture_file(file: Path) -> Iterator[LabelledEvent]:
    """Events of one Zeek log with their labels (None where the file carries none)."""
    for number, row, raw, header_path in _rows(file):
        path = _path_of(file, header_path)
        label = None
        if "label" in row:
            label = Label(str(row.get("label") or ""), str(row.get("detailedlabel") or ""))
        fields = {k: v for k, v in row.items() if k not in LABEL_COLUMNS and v is not None}
        class_uid = _CLASS_OF_PATH.get(path, 0)
        try:
            time_ms = int(float(row.get("ts") or 0) * 1000)
        except (TypeError, ValueError):
            time_ms = 0
        uid = f"{file.name}:{number}"
        prov = Provenance(str(file), "zeek", number, "eval", 0)
        event = Event(uid, class_uid, time_ms, _ocsf(fields, class_uid), fields, raw, prov)
        yield LabelledEvent(event, label, path)


def capture_files(folder: Path, paths: tuple[str, ...] = ("conn", "http", "ssl")) -> list[Path]:
    """The capture's logs of the given kinds, preferring the labelled copy of a log."""
    found: dict[str, Path] = {}
    for file in sorted(folder.rglob("*")):
        if not file.is_file() or file.suffix not in (".log", ".labeled"):
            continue
        kind = file.name.replace("labeled-", "").split(".")[0]
        if kind not in paths:
            continue
        labelled = "label" in file.name
        if kind not in found or labelled:
            found[kind] = file
    return [found[k] for k in sorted(found)]
