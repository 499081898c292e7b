"""Write the recorder's records to files in their real formats, and say where each landed.

- ``auth.log``: syslog lines with RFC 3339 timestamps (rsyslog's high-precision format).
- Zeek ``conn.log`` / ``dns.log``: TSV with the ``#separator`` ... ``#types`` header and a
  ``#close`` trailer, exactly as Zeek's ASCII writer lays them out.
- Windows: one JSON object per line; ``EventRecordID`` numbered per computer and channel.

Positions are the 1-based physical line numbers in the file (Zeek header lines count), which
is what line-format sources report as ``record_id``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from garrison.demo.netflow import CONN_FIELDS, DNS_FIELDS
from garrison.demo.recorder import SINKS, Rec, Recorder
from garrison.demo.world import US_PER_S, World

#: sink -> [(line number, record)] in file order.
Positions = dict[str, list[tuple[int, Rec]]]
_ZEEK_ESCAPES = {"\t": "\\x09", "\n": "\\x0a", "\r": "\\x0d", "\\": "\\\\"}


def write_all(world: World, rec: Recorder, data_dir: Path) -> Positions:
    """Write every sink under ``data_dir``; returns where each record was written."""
    positions: Positions = {}
    for sink, rel in SINKS.items():
        path = data_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        records = rec.sorted(sink)
        if sink == "auth":
            lines = (auth_line(r.data, r.time_us) for r in records)
            positions[sink] = _write(path, [], lines, records)
        elif sink in ("conn", "dns"):
            fields = CONN_FIELDS if sink == "conn" else DNS_FIELDS
            header = zeek_header(sink, fields, world.start_us)
            lines = (zeek_line(r.data, fields) for r in records)
            trailer = f"#close\t{_zeek_stamp(world.end_us)}"
            positions[sink] = _write(path, header, lines, records, trailer)
        else:
            lines = (json.dumps(e, ensure_ascii=False) for e in number_windows(world, records))
            positions[sink] = _write(path, [], lines, records)
        stamp = world.end_us / US_PER_S
        os.utime(path, (stamp, stamp))
    return positions


def _write(
    path: Path, header: list[str], lines: Iterable[str], records: list[Rec], trailer: str = ""
) -> list[tuple[int, Rec]]:
    out: list[tuple[int, Rec]] = []
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for line in header:
            fh.write(line + "\n")
        number = len(header)
        for line, record in zip(lines, records, strict=True):
            number += 1
            fh.write(line + "\n")
            out.append((number, record))
        if trailer:
            fh.write(trailer + "\n")
    return out


def rfc3339(time_us: int) -> str:
    dt = datetime.fromtimestamp(time_us // US_PER_S, tz=UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{time_us % US_PER_S:06d}+00:00"


def auth_line(data: tuple[str, str, int | None, str], time_us: int) -> str:
    host, program, pid, message = data
    tag = f"{program}[{pid}]" if pid is not None else program
    return f"{rfc3339(time_us)} {host} {tag}: {message}"


def _zeek_stamp(time_us: int) -> str:
    return datetime.fromtimestamp(time_us // US_PER_S, tz=UTC).strftime("%Y-%m-%d-%H-%M-%S")


def zeek_header(path: str, fields: tuple[tuple[str, str], ...], start_us: int) -> list[str]:
    return [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        f"#path\t{path}",
        f"#open\t{_zeek_stamp(start_us)}",
        "#fields\t" + "\t".join(name for name, _ in fields),
        "#types\t" + "\t".join(kind for _, kind in fields),
    ]


def _zeek_str(text: str) -> str:
    if not text:
        return "(empty)"
    return "".join(_ZEEK_ESCAPES.get(ch, ch) for ch in text)


def zeek_value(value: Any, kind: str) -> str:
    """One field in Zeek's ASCII form (``-`` unset, ``(empty)`` empty, ``T``/``F`` bools)."""
    if value is None:
        return "-"
    if kind == "time":
        return f"{value // US_PER_S}.{value % US_PER_S:06d}"
    if kind == "bool":
        return "T" if value else "F"
    if kind == "interval":
        return f"{float(value):.6f}"
    if kind.startswith(("set[", "vector[")):
        if not value:
            return "(empty)" if kind.startswith("set[") else "-"
        inner = kind[kind.index("[") + 1 : -1]
        return ",".join(zeek_value(v, inner) for v in value)
    if kind == "string" and value == "-":
        return "-"
    if isinstance(value, str):
        return _zeek_str(value)
    return str(value)


def zeek_line(record: dict[str, Any], fields: tuple[tuple[str, str], ...]) -> str:
    return "\t".join(zeek_value(record.get(name), kind) for name, kind in fields)


def number_windows(world: World, records: list[Rec]) -> Iterable[dict[str, Any]]:
    """Events with ``EventRecordID`` set, counting up per computer and channel."""
    counters: dict[tuple[str, str], int] = {}
    for record in records:
        event: dict[str, Any] = record.data
        key = (str(event["Computer"]), str(event["Channel"]))
        if key not in counters:
            counters[key] = 1000 + int(world.digest("erid", *key)[:6], 16) % 900_000
        counters[key] += 1
        out: dict[str, Any] = {}
        for name, value in event.items():
            out[name] = value
            if name == "Computer":
                out["EventRecordID"] = counters[key]
        yield out
