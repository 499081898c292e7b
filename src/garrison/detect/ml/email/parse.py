"""Reading a message from hostile input: never raises, caps every size.

Two input shapes (the ``garrison score email`` contract): ``raw``, a whole RFC 822 message,
parsed with the standard library's ``email`` package (``policy.default``); or ``subject`` and
``body`` given apart, where the body may be plain text or HTML. Either way the result is a
``ParsedEmail`` carrying only what the model may look at.

Headers are read from an explicit allowlist (``Subject``, ``From``, ``Reply-To``,
``Authentication-Results``, ``Received-SPF`` and the MIME headers of each part). Delivery-path
headers (``Received``, ``Return-Path``, ``Delivered-To``, mailing-list headers) and every
filter verdict (``X-Spam-*``, ``X-Spam``, ``X-MailScanner-*``, ``X-Virus-*`` ...) are never read:
they describe how one corpus was collected, not what the message is, and some carry the
answer. ``FILTER_HEADER`` names the verdict headers so tests can prove they change nothing.

Bodies: each part's transfer encoding (base64, quoted-printable) is undone by the library,
unknown or lying charsets fall back to UTF-8 with replacement, HTML is reduced to text and
links by ``html.html_to_text`` (a tokenizer: nothing runs). Caps: ``MAX_RAW`` bytes of
message, ``MAX_PARTS`` MIME parts, ``MAX_PART`` bytes decoded per part, ``MAX_TEXT``
characters of text kept.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.utils import getaddresses, parseaddr
from typing import Any

from garrison.detect.ml.email.html import HtmlContent, Link, html_to_text, looks_like_html

MAX_RAW = 2_000_000
MAX_PARTS = 200
MAX_PART = 1_000_000
MAX_TEXT = 100_000
MAX_DEPTH = 20
#: Headers carrying a spam filter's verdict: never read (``strip_filter_headers`` drops them).
FILTER_HEADER = re.compile(r"^(x-spam|x-.*spam|x-mailscanner|x-virus|x-bogosity|x-dspam)", re.I)
_AUTH = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.I)
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]{}]{2,400}", re.I)


@dataclass(slots=True)
class Attachment:
    filename: str
    content_type: str


@dataclass(slots=True)
class ParsedEmail:
    """What the features read. ``invalid`` is a reason when the input cannot be scored."""

    subject: str = ""
    text: str = ""
    from_address: str = ""
    from_display: str = ""
    reply_to: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    auth: dict[str, str] = field(default_factory=dict)
    has_text_part: bool = False
    has_html: bool = False
    forms: int = 0
    password_inputs: int = 0
    images: int = 0
    hidden_text: int = 0
    parts: int = 0
    shape: str = "raw"
    notes: list[str] = field(default_factory=list)
    invalid: str = ""

    @property
    def html_only(self) -> bool:
        return self.has_html and not self.has_text_part


def _header(msg: Message, name: str) -> str:
    """One header as text, '' when absent or unreadable (malformed headers raise in places)."""
    try:
        value = msg.get(name)
    except Exception:
        return ""
    if value is None:
        return ""
    try:
        return str(value)[:4000]
    except Exception:
        return ""


def _all_headers(msg: Message, name: str) -> list[str]:
    try:
        values = msg.get_all(name) or []
    except Exception:
        return []
    out = []
    for v in values[:20]:
        try:
            out.append(str(v)[:4000])
        except Exception:  # noqa: S112 - one unreadable value is skipped
            continue
    return out


def _decode_payload(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        return ""
    if not isinstance(payload, bytes):
        return ""
    payload = payload[:MAX_PART]
    try:
        charset = part.get_content_charset() or "utf-8"
    except Exception:
        charset = "utf-8"
    try:
        return payload.decode(charset, "replace")
    except (LookupError, ValueError, TypeError):
        return payload.decode("utf-8", "replace")


def _parts(msg: Message) -> list[Message]:
    """Leaf parts, depth-first, iteratively (no recursion limit to hit), at most MAX_PARTS."""
    out: list[Message] = []
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack and seen < MAX_PARTS * 2:
        part, depth = stack.pop()
        seen += 1
        try:
            multipart = part.is_multipart()
            children = part.get_payload() if multipart else None
        except Exception:  # noqa: S112 - one unreadable value is skipped
            continue
        if multipart and isinstance(children, list):
            if depth < MAX_DEPTH:
                stack.extend((c, depth + 1) for c in reversed(children) if isinstance(c, Message))
            continue
        out.append(part)
        if len(out) >= MAX_PARTS:
            break
    return out


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    return str(name)[:300]


def _is_attachment(part: Message, filename: str) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
    except Exception:
        disposition = ""
    return bool(filename) or disposition == "attachment"


def _content_type(part: Message) -> str:
    try:
        return str(part.get_content_type()).lower()[:200]
    except Exception:
        return "application/octet-stream"


def _add_html(out: ParsedEmail, markup: str, texts: list[str]) -> None:
    content: HtmlContent = html_to_text(markup)
    out.has_html = True
    texts.append(content.text)
    out.links.extend(content.links)
    out.forms += content.forms
    out.password_inputs += content.password_inputs
    out.images += content.images
    out.hidden_text += content.hidden_text


def _finish(out: ParsedEmail, texts: list[str]) -> ParsedEmail:
    text = "\n".join(t for t in texts if t)
    if len(text) > MAX_TEXT:
        out.notes.append(f"text cut at {MAX_TEXT} characters")
        text = text[:MAX_TEXT]
    out.text = text
    hrefs = [link.href for link in out.links]
    found = _URL.findall(out.subject + "\n" + text)
    seen: dict[str, None] = {}
    for url in hrefs + found:
        if url and len(seen) < 1000:
            seen.setdefault(url[:2000], None)
    out.urls = list(seen)
    return out


def parse_raw(raw: str | bytes) -> ParsedEmail:
    """Parse a whole RFC 822 message; never raises."""
    data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw
    out = ParsedEmail(shape="raw")
    if not data.strip():
        out.invalid = "empty message"
        return out
    if len(data) > MAX_RAW:
        out.notes.append(f"message cut at {MAX_RAW} bytes")
        data = data[:MAX_RAW]
    try:
        msg = email.message_from_bytes(data, policy=policy.default)
    except Exception as exc:
        out.invalid = f"unparseable message: {type(exc).__name__}"
        return out
    try:
        header_names = list(msg.keys())
    except Exception:
        header_names = []
    if not header_names:
        out.invalid = "no RFC 822 headers (give subject and body instead)"
        return out
    out.subject = " ".join(_header(msg, "Subject").split())[:1000]
    display, address = parseaddr(_header(msg, "From"))
    out.from_display, out.from_address = display[:300], address.lower()[:300]
    try:
        reply = getaddresses(_all_headers(msg, "Reply-To"))
    except Exception:
        reply = []
    out.reply_to = [addr.lower()[:300] for _, addr in reply if addr][:10]
    out.auth = _auth_results(msg)
    texts: list[str] = []
    for part in _parts(msg):
        out.parts += 1
        ctype = _content_type(part)
        filename = _filename(part)
        if _is_attachment(part, filename):
            out.attachments.append(Attachment(filename, ctype))
            continue
        if ctype == "text/html":
            _add_html(out, _decode_payload(part), texts)
        elif ctype.startswith("text/"):
            out.has_text_part = True
            texts.append(_decode_payload(part))
    return _finish(out, texts)


def _auth_results(msg: Message) -> dict[str, str]:
    """SPF/DKIM/DMARC results the receiving side recorded, worst result per method."""
    rank = {"pass": 0, "none": 1, "neutral": 1, "temperror": 1, "permerror": 2}
    found: dict[str, str] = {}
    values = _all_headers(msg, "Authentication-Results")
    values += ["spf=" + v.split(None, 1)[0] for v in _all_headers(msg, "Received-SPF") if v.split()]
    for value in values:
        for method, result in _AUTH.findall(value):
            method, result = method.lower(), result.lower()
            old = found.get(method)
            if old is None or rank.get(result, 3) > rank.get(old, 3):
                found[method] = result
    return found


def parse_fields(subject: Any, body: Any) -> ParsedEmail:
    """The ``subject``+``body`` shape: no headers, the body plain text or HTML."""
    out = ParsedEmail(shape="fields")
    if not isinstance(subject, str) or not isinstance(body, str):
        out.invalid = "subject and body must both be strings"
        return out
    if not subject.strip() and not body.strip():
        out.invalid = "empty subject and body"
        return out
    out.subject = " ".join(subject.split())[:1000]
    body = body[:MAX_RAW]
    texts: list[str] = []
    if looks_like_html(body):
        _add_html(out, body, texts)
    else:
        out.has_text_part = True
        texts.append(body)
    return _finish(out, texts)


def parse_input(obj: Any) -> ParsedEmail:
    """One decoded JSON input line: ``{"raw": ...}`` or ``{"subject": ..., "body": ...}``."""
    if not isinstance(obj, dict):
        return ParsedEmail(invalid="not a JSON object")
    if "raw" in obj:
        raw = obj["raw"]
        if not isinstance(raw, str):
            return ParsedEmail(invalid="raw must be a string")
        return parse_raw(raw)
    if "subject" in obj or "body" in obj:
        return parse_fields(obj.get("subject", ""), obj.get("body", ""))
    return ParsedEmail(invalid="expected a 'raw' message or 'subject' and 'body'")


def strip_filter_headers(raw: str) -> str:
    """The message without spam-filter verdict headers (for leak tests and evaluation)."""
    head, sep, body = raw.partition("\n\n")
    lines = head.split("\n")
    kept: list[str] = []
    dropping = False
    for line in lines:
        if line[:1] in (" ", "\t") and kept is not None:
            if not dropping:
                kept.append(line)
            continue
        name = line.split(":", 1)[0].strip()
        dropping = bool(FILTER_HEADER.match(name)) and ":" in line
        if not dropping:
            kept.append(line)
    return "\n".join(kept) + sep + body
