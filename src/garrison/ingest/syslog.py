"""Syslog files: Linux ``auth.log``/``secure``/``messages`` in the three shapes found on disk.

- RFC 3164 / BSD (``Dec 10 06:55:46 LabSZ sshd[24200]: ...``, optional ``<PRI>``, optional
  fractional seconds): the line has no year and no zone. Times are taken as UTC. The year of
  the first line comes from the file's mtime (the file was last written after its last
  line): the mtime's year, or the year before when the line's month is later than the
  mtime's month. After that the year follows the file: a month going back by six or more
  (Dec -> Jan) moves to the next year; a month jumping forward by six or more (a late Dec
  line right after Jan lines) moves back one. Records carry ``year_inferred=True``.
- RFC 5424 (``<34>1 2024-01-02T03:04:05.123Z host app procid msgid [sd] msg``).
- ISO timestamps as rsyslog's file format writes them
  (``2024-01-02T03:04:05.123+00:00 host prog[pid]: msg``).

``RawRecord.data`` is ``{"time" (ms), "timestamp" (as written), "hostname", "program",
"pid", "message", "syslog_format", ...}``; message semantics (sshd, sudo, su, PAM) are the
normalizer's job. Position is the 1-based line number; blank lines are not records.
A line that matches none of the three shapes is quarantined with the reason.

Invalid UTF-8 bytes are kept as ``\\xNN`` escapes (``meta["invalid_utf8"]``) instead of
quarantining the line: attackers choose user names, and one bad byte must not hide a
failed login from detection.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from garrison.core.errors import RecordError
from garrison.core.events import Quarantined, RawRecord
from garrison.core.timeutil import parse_iso_ms
from garrison.ingest._text import excerpt_of, head_lines, record_lines
from garrison.ingest.base import SOURCES, Source, SourceItem

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}

_PRI = r"(?:<(?P<pri>\d{1,3})>)?"
RFC3164 = re.compile(
    _PRI + r"(?P<mon>[A-Za-z]{3}) {1,2}(?P<day>\d{1,2}) (?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})"
    r"(?:\.(?P<frac>\d{1,9}))? +(?P<rest>\S.*)$"
)
ISO_LINE = re.compile(
    _PRI + r"(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?"
    r"(?:Z|[+-]\d{2}:?\d{2})?) +(?P<rest>\S.*)$"
)
RFC5424 = re.compile(
    r"<(?P<pri>\d{1,3})>(?P<ver>\d{1,2}) (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) "
    r"(?P<procid>\S+) (?P<msgid>\S+)(?: (?P<rest>.*))?$"
)
#: ``prog[pid]: msg`` / ``prog: msg`` after the host name.
TAG = re.compile(r"(?P<prog>[^\s\[\]:]{1,128})(?:\[(?P<pid>[^\]\s]{0,32})\])?: ?(?P<msg>.*)$")

#: Share of sniffed lines that must look like syslog.
_SNIFF_SHARE = 0.8


def match_header(line: str) -> bool:
    """True when a line starts like one of the three syslog shapes."""
    return bool(RFC5424.match(line) or ISO_LINE.match(line) or RFC3164.match(line))


@SOURCES.register("syslog")
class SyslogSource(Source):
    """Syslog / auth.log files; see the module docstring."""

    format: ClassVar[str] = "syslog"
    #: After Zeek and JSON lines, before CSV.
    priority: ClassVar[int] = 60

    @classmethod
    def sniff(cls, head: bytes, path: Path) -> bool:
        lines = head_lines(head, 20)
        if not lines:
            return False
        hits = sum(1 for line in lines if match_header(line))
        return match_header(lines[0]) and hits >= _SNIFF_SHARE * len(lines)

    def read(self, path: Path) -> Iterator[SourceItem]:
        years = _YearTracker(_mtime(path))
        for line in record_lines(path, self.format, invalid="escape"):
            if isinstance(line, Quarantined):
                yield line
                continue
            try:
                data = parse_line(line.text, years)
            except RecordError as exc:
                yield Quarantined(
                    str(path), line.number, str(exc), self.format, excerpt_of(line.text)
                )
                continue
            meta: dict[str, Any] = {"invalid_utf8": True} if line.replaced else {}
            yield RawRecord(line.number, data, line.text, meta)


def _mtime(path: Path) -> datetime:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except (OSError, ValueError, OverflowError):
        return datetime.now(tz=UTC)


class _YearTracker:
    """Years for year-less RFC 3164 lines, following the file (see the module docstring)."""

    def __init__(self, mtime: datetime) -> None:
        self.mtime = mtime
        self.year: int | None = None
        self.month: int | None = None

    def year_for(self, month: int) -> int:
        if self.year is None or self.month is None:
            self.year = self.mtime.year if month <= self.mtime.month else self.mtime.year - 1
        elif self.month - month >= 6:
            self.year += 1
        elif month - self.month >= 6:
            self.year -= 1
        self.month = month
        return self.year


def parse_line(text: str, years: _YearTracker) -> dict[str, Any]:
    """The syslog header fields of one line; ``RecordError`` when it is not syslog."""
    m5424 = RFC5424.match(text)
    if m5424:
        return _rfc5424(m5424)
    miso = ISO_LINE.match(text)
    if miso:
        data = {"syslog_format": "iso", "timestamp": miso["ts"], "time": parse_iso_ms(miso["ts"])}
        _add_pri(data, miso["pri"])
        data.update(_host_and_tag(miso["rest"]))
        return data
    m3164 = RFC3164.match(text)
    if m3164:
        return _rfc3164(m3164, years)
    raise RecordError("not a syslog line (no RFC 3164, RFC 5424 or ISO timestamp header)")


def _rfc3164(m: re.Match[str], years: _YearTracker) -> dict[str, Any]:
    month = _MONTHS.get(m["mon"].lower())
    if month is None:
        raise RecordError(f"not a syslog line (unknown month {m['mon']!r})")
    day, hour, minute, sec = int(m["day"]), int(m["h"]), int(m["m"]), int(m["s"])
    micro = int((m["frac"] or "0").ljust(6, "0")[:6])
    year = years.year_for(month)
    try:
        when = datetime(year, month, day, hour, minute, min(sec, 59), micro, tzinfo=UTC)
    except ValueError as exc:
        raise RecordError(f"bad syslog timestamp: {exc}") from exc
    data: dict[str, Any] = {
        "syslog_format": "rfc3164",
        "timestamp": text_of_ts(m),
        "time": int(when.timestamp() * 1000),
        "year_inferred": True,
    }
    _add_pri(data, m["pri"])
    data.update(_host_and_tag(m["rest"]))
    return data


def text_of_ts(m: re.Match[str]) -> str:
    frac = f".{m['frac']}" if m["frac"] else ""
    return f"{m['mon']} {m['day']} {m['h']}:{m['m']}:{m['s']}{frac}"


def _host_and_tag(rest: str) -> dict[str, Any]:
    """``host prog[pid]: msg``; a line without a host (``prog[pid]: msg``) or without a tag
    (``host free text``) keeps what it has."""
    host, _, after = rest.partition(" ")
    tag_on_host = TAG.match(rest)
    if tag_on_host and (host.endswith(":") or "[" in host):
        host, after = "", rest  # no host name: the first word is the tag
    out: dict[str, Any] = {"hostname": host or None}
    tag = TAG.match(after)
    if tag:
        out["program"] = tag["prog"]
        out["pid"] = _pid(tag["pid"])
        out["message"] = tag["msg"]
    else:
        out["program"] = None
        out["pid"] = None
        out["message"] = after
    return out


def _pid(value: str | None) -> int | str | None:
    if value is None or value == "":
        return None
    return int(value) if value.isdigit() and len(value) < 12 else value


def _add_pri(data: dict[str, Any], pri: str | None) -> None:
    if pri is None:
        return
    value = int(pri)
    if value > 191:
        raise RecordError(f"bad syslog priority <{pri}>")
    data["facility"] = value >> 3
    data["severity"] = value & 7


def _rfc5424(m: re.Match[str]) -> dict[str, Any]:
    ts = m["ts"]
    data: dict[str, Any] = {"syslog_format": "rfc5424", "timestamp": ts}
    if ts == "-":
        data["time"] = 0
        data["time_missing"] = True
    else:
        data["time"] = parse_iso_ms(ts)
    _add_pri(data, m["pri"])
    nil = lambda v: None if v == "-" else v  # noqa: E731
    data["hostname"] = nil(m["host"])
    data["program"] = nil(m["app"])
    data["pid"] = _pid(nil(m["procid"]))
    data["msgid"] = nil(m["msgid"])
    sd, msg = split_structured_data(m["rest"] or "")
    if sd:
        data["structured_data"] = sd
    data["message"] = msg[1:] if msg.startswith("\ufeff") else msg
    return data


def split_structured_data(rest: str) -> tuple[dict[str, dict[str, str]], str]:
    """RFC 5424 STRUCTURED-DATA and MSG. ``-`` is none; ``[id k="v" ...]...`` is parsed
    with the ``\\"``, ``\\\\`` and ``\\]`` escapes; anything malformed stays in the message."""
    if rest.startswith("- ") or rest == "-":
        return {}, rest[2:]
    if not rest.startswith("["):
        return {}, rest
    elements: dict[str, dict[str, str]] = {}
    i = 0
    while i < len(rest) and rest[i] == "[":
        parsed = _sd_element(rest, i + 1)
        if parsed is None:
            return {}, rest
        sd_id, params, i = parsed
        elements[sd_id] = params
    msg = rest[i:]
    return elements, msg[1:] if msg.startswith(" ") else msg


_SD_NAME = re.compile(r'[^\s=\]"]{1,32}')


def _sd_element(text: str, i: int) -> tuple[str, dict[str, str], int] | None:
    name = _SD_NAME.match(text, i)
    if not name:
        return None
    sd_id, i = name.group(0), name.end()
    params: dict[str, str] = {}
    while i < len(text) and text[i] == " ":
        key = _SD_NAME.match(text, i + 1)
        if not key or text[key.end() : key.end() + 2] != '="':
            return None
        i = key.end() + 2
        value: list[str] = []
        while i < len(text) and text[i] != '"':
            if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in '"\\]':
                i += 1
            value.append(text[i])
            i += 1
        if i >= len(text):
            return None
        params[key.group(0)] = "".join(value)
        i += 1
    if i >= len(text) or text[i] != "]":
        return None
    return sd_id, params, i + 1
