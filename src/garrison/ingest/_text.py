"""Line reading shared by the line formats (Zeek, syslog, JSON lines, CSV).

Why one reader: every line format needs the same guarantees, and getting them right once is
cheaper than four times.

- Streaming: the file is read in 1 MiB blocks, never whole, so a 1 GB log costs ~1 MiB of
  memory plus the longest line.
- Line numbers: ``Line.number`` is the 1-based physical line number (lines end at ``\\n``
  only; a lone ``\\r`` or a Unicode line separator inside a line does NOT start a new line,
  unlike ``str.splitlines``). A trailing ``\\r`` (CRLF files) is removed.
- Encodings: UTF-8 (with or without a BOM) and UTF-16 LE/BE with a BOM. A file without a
  BOM is read as UTF-8.
- Caps: a line longer than ``max_bytes`` (10 MiB by default) is not decoded; it comes back
  as a ``Line`` with ``error`` set, and the reader skips to the next newline without ever
  holding more than the cap in memory.
- Invalid UTF-8: either the line is returned with ``error="invalid UTF-8 at byte N"``
  (``invalid="error"``, what JSON lines use: the bytes cannot be JSON anyway) or it is
  decoded with backslash escapes and ``replaced=True`` (``invalid="escape"``, what syslog,
  Zeek and CSV use: quarantining a whole auth.log line because an attacker put one bad byte
  in a user name would hide a failed login from detection). Decoded text never holds lone
  surrogates, so it is always storable (Parquet strings must be valid UTF-8).

Blank lines are returned too (``text == ""``); each source decides what they mean (for
every line format here: a blank or whitespace-only line is not a record).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from garrison.core.events import Quarantined

#: Longest line any line format accepts; longer lines are quarantined.
MAX_LINE_BYTES = 10 * 1024 * 1024
_BLOCK = 1 << 20
_EXCERPT = 200

InvalidPolicy = Literal["error", "escape"]


@dataclass(slots=True)
class Line:
    """One physical line: its number, its text (``None`` when unusable) and why not."""

    number: int
    text: str | None
    error: str | None = None
    excerpt: str = ""
    replaced: bool = False


def detect_encoding(head: bytes) -> tuple[str, int]:
    """(codec name, BOM length) for the bytes a file starts with."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith(codecs.BOM_UTF16_LE) and not head.startswith(codecs.BOM_UTF32_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    return "utf-8", 0


def excerpt_of(raw: bytes | str, size: int = _EXCERPT) -> str:
    """A short printable excerpt of a line for quarantine entries."""
    if isinstance(raw, bytes):
        return raw[:size].decode("utf-8", "backslashreplace")
    return raw[:size]


def head_text(head: bytes) -> tuple[str, bool]:
    """The sniffed head decoded (BOM honoured, bad bytes replaced) and whether it is the
    whole file (shorter than the sniff window), so the last line can be trusted as complete.
    """
    from garrison.ingest.base import SNIFF_BYTES

    codec, bom = detect_encoding(head)
    body = head[bom:]
    if codec.startswith("utf-16") and len(body) % 2:
        body = body[:-1]
    return body.decode(codec, "replace"), len(head) < SNIFF_BYTES


def head_lines(head: bytes, limit: int = 20) -> list[str]:
    """Up to ``limit`` complete, non-blank lines from the head of a file (CR stripped)."""
    text, whole = head_text(head)
    parts = text.split("\n")
    if not whole:
        parts = parts[:-1]  # the last piece may be cut mid-line
    out: list[str] = []
    for part in parts:
        line = part[:-1] if part.endswith("\r") else part
        if line.strip():
            out.append(line)
            if len(out) >= limit:
                break
    return out


def first_line_prefix(head: bytes) -> str:
    """The start of the first non-blank line even when the head cut it (long lines)."""
    text, _ = head_text(head)
    return text.lstrip(" \t\r\n")


def iter_lines(
    path: Path, *, max_bytes: int = MAX_LINE_BYTES, invalid: InvalidPolicy = "error"
) -> Iterator[Line]:
    """Every physical line of ``path`` in order (see the module docstring)."""
    with path.open("rb") as fh:
        start = fh.read(4)
        codec, bom = detect_encoding(start)
        fh.seek(bom)
        if codec == "utf-8":
            yield from _utf8_lines(fh, max_bytes, invalid)
        else:
            yield from _utf16_lines(fh, codec, max_bytes)


@dataclass(slots=True, frozen=True)
class TextLine:
    """A usable, non-blank line: its number, its text, whether bytes were replaced."""

    number: int
    text: str
    replaced: bool = False


def record_lines(
    path: Path, source_format: str, *, invalid: InvalidPolicy = "error"
) -> Iterator[TextLine | Quarantined]:
    """The lines that are records: blank lines skipped (they are not records), unusable
    ones (too long, undecodable) already turned into quarantine entries."""
    for line in iter_lines(path, invalid=invalid):
        if line.text is None:
            yield Quarantined(
                str(path),
                line.number,
                line.error or "unreadable line",
                source_format,
                line.excerpt,
            )
        elif line.text.strip():
            yield TextLine(line.number, line.text, line.replaced)


def _utf8_lines(fh: object, max_bytes: int, invalid: InvalidPolicy) -> Iterator[Line]:
    number = 0
    for raw, too_long in _split(fh, max_bytes):
        number += 1
        if too_long:
            yield Line(number, None, f"line longer than {max_bytes} bytes", excerpt_of(raw))
            continue
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            yield Line(number, raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            if invalid == "error":
                yield Line(number, None, f"invalid UTF-8 at byte {exc.start + 1}", excerpt_of(raw))
            else:
                yield Line(number, raw.decode("utf-8", "backslashreplace"), replaced=True)


def _split(fh: object, max_bytes: int) -> Iterator[tuple[bytes, bool]]:
    """(line bytes without ``\\n``, too_long) pairs; memory stays under max_bytes + a block.

    For a line over the cap the bytes returned are only its first block (for the excerpt).
    """
    read = fh.read  # type: ignore[attr-defined]
    carry: list[bytes] = []
    carry_len = 0
    dropping = False
    head_of_long = b""
    while True:
        chunk = read(_BLOCK)
        if not chunk:
            break
        parts = chunk.split(b"\n")
        tail = parts.pop()
        for i, part in enumerate(parts):
            if i == 0 and (carry or dropping):
                if dropping:
                    yield head_of_long, True
                    dropping, head_of_long = False, b""
                else:
                    line = b"".join([*carry, part])
                    yield line, len(line) > max_bytes
                carry, carry_len = [], 0
            else:
                yield part, len(part) > max_bytes
        if parts and not dropping:
            carry, carry_len = [], 0
        if tail:
            if dropping:
                continue
            carry.append(tail)
            carry_len += len(tail)
            if carry_len > max_bytes:
                head_of_long = b"".join(carry)[:_EXCERPT]
                carry, carry_len, dropping = [], 0, True
    if dropping:
        yield head_of_long, True
    elif carry:
        line = b"".join(carry)
        yield line, len(line) > max_bytes


def _utf16_lines(fh: object, codec: str, max_bytes: int) -> Iterator[Line]:
    """UTF-16 with a BOM: decoded incrementally (bad code units replaced, flagged)."""
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    max_chars = max_bytes // 2
    read = fh.read  # type: ignore[attr-defined]
    number = 0
    carry = ""
    dropping = False
    while True:
        chunk = read(_BLOCK)
        final = not chunk
        text = decoder.decode(chunk, final=final)
        pieces = (carry + text).split("\n") if not dropping else text.split("\n")
        carry = pieces.pop()
        for i, piece in enumerate(pieces):
            number += 1
            if dropping and i == 0:
                dropping = False
                yield Line(number, None, f"line longer than {max_bytes} bytes", "")
                continue
            yield _utf16_line(number, piece, max_chars, max_bytes)
        if dropping:
            carry = ""
        elif len(carry) > max_chars:
            dropping, carry = True, ""
        if final:
            break
    if dropping:
        number += 1
        yield Line(number, None, f"line longer than {max_bytes} bytes", "")
    elif carry:
        number += 1
        yield _utf16_line(number, carry, max_chars, max_bytes)


def _utf16_line(number: int, piece: str, max_chars: int, max_bytes: int) -> Line:
    if len(piece) > max_chars:
        return Line(number, None, f"line longer than {max_bytes} bytes", piece[:_EXCERPT])
    if piece.endswith("\r"):
        piece = piece[:-1]
    return Line(number, piece, replaced="\ufffd" in piece)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def scrub_surrogates(obj: Any, text: str) -> Any:
    """``obj`` (parsed from the JSON ``text``) with unpaired surrogates made literal.

    JSON may spell a lone UTF-16 surrogate (``"\\ud800"``); Python decodes it into a string
    that cannot be encoded as UTF-8, which would break storage later. Such characters are
    turned back into their literal ``\\ud800`` text. Only walks ``obj`` when ``text`` holds a
    surrogate escape at all, so ordinary lines cost one regex search.
    """
    if not _SURROGATE_ESCAPE.search(text):
        return obj
    return _scrub(obj)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value
