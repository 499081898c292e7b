"""Structural features: what makes a message phishing or spam in any year.

Links (how many, to how many domains, anchor text naming another domain than the href, raw
IP hosts, URL shorteners, punycode), sender identity (a display name carrying another
address or domain than the real From, a Reply-To elsewhere), pressure and credential words
(``lexicon``), risky attachments (executables, macro-capable Office files, archives, HTML
files, double extensions), HTML shape (HTML-only, forms, password fields, hidden text) and
failed SPF/DKIM/DMARC when the receiving side recorded them.

Every feature is a small non-negative number (counts through log1p, flags 0/1), so a linear
model's weight times the value is the feature's exact contribution in log-odds.
``SIGNS`` marks the features whose weight training may only make non-negative: they are
evidence *for* phishing by construction, and a corpus quirk (mailing lists setting
Reply-To to the list) must not teach the model the opposite.
"""

from __future__ import annotations

import ipaddress
import math
import re
from urllib.parse import urlsplit

import numpy as np
from numpy.typing import NDArray

from garrison.detect.ml.domains import parse_domain
from garrison.detect.ml.email import lexicon
from garrison.detect.ml.email.parse import ParsedEmail

STRUCTURAL = (
    "url_count",
    "link_domains",
    "link_text_mismatch",
    "ip_link",
    "shortener_link",
    "punycode_link",
    "links_off_sender_domain",
    "display_name_mismatch",
    "reply_to_elsewhere",
    "urgency_words",
    "credential_words",
    "exec_attachment",
    "macro_attachment",
    "archive_attachment",
    "html_attachment",
    "double_extension",
    "html_only",
    "html_form",
    "password_field",
    "hidden_text",
    "auth_fail",
    "image_heavy",
    "subject_caps",
    "subject_exclaim",
    "text_length",
)
#: Phishing evidence by construction: weights bounded below by 0 in training.
SIGNS = frozenset(
    {
        "link_text_mismatch",
        "ip_link",
        "shortener_link",
        "punycode_link",
        "links_off_sender_domain",
        "display_name_mismatch",
        "reply_to_elsewhere",
        "urgency_words",
        "credential_words",
        "exec_attachment",
        "macro_attachment",
        "archive_attachment",
        "html_attachment",
        "double_extension",
        "html_form",
        "password_field",
        "hidden_text",
        "auth_fail",
    }
)
_DOMAINISH = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,24}", re.I)
_EMAILISH = re.compile(r"[^\s@<>\"']+@((?:[a-z0-9-]+\.)+[a-z]{2,24})", re.I)


def _host(url: str) -> str:
    text = url.strip()
    if text.lower().startswith("www."):
        text = "http://" + text
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:
        return ""
    return host.strip(".").lower()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(re.fullmatch(r"\d{8,10}|0x[0-9a-f]{8}", host))  # decimal/hex IP forms
    return True


def registered(host: str) -> str:
    """The registered domain of a host name ('' for IPs and garbage); the last two labels
    when the public suffix list does not know the suffix (``corp.example``)."""
    if not host or _is_ip(host):
        return ""
    parsed = parse_domain(host)
    if not parsed.ok:
        return ""
    if parsed.suffix and parsed.registered:
        return parsed.registered
    return ".".join(host.rsplit(".", 2)[-2:])


def _email_domain(address: str) -> str:
    return registered(address.rpartition("@")[2]) if "@" in address else ""


def _ext(name: str) -> list[str]:
    parts = name.lower().strip().rstrip(".").split(".")
    return parts[1:] if len(parts) > 1 else []


def _link_features(msg: ParsedEmail, sender: str) -> dict[str, float]:
    hosts = [_host(u) for u in msg.urls]
    hosts = [h for h in hosts if h]
    domains = {registered(h) or h for h in hosts}
    mismatch = 0
    for link in msg.links:
        shown = _DOMAINISH.search(link.text)
        if not shown:
            continue
        shown_dom = registered(shown.group(0).lower())
        target_host = _host(link.href)
        target = registered(target_host) or target_host
        if shown_dom and target and shown_dom != target:
            mismatch += 1
    off = 0.0
    if sender and domains:
        off = 1.0 if sender not in domains else 0.0
    return {
        "url_count": math.log1p(len(msg.urls)),
        "link_domains": math.log1p(len(domains)),
        "link_text_mismatch": float(mismatch > 0),
        "ip_link": float(any(_is_ip(h) for h in hosts)),
        "shortener_link": float(any(h in lexicon.SHORTENERS for h in hosts)),
        "punycode_link": float(any("xn--" in h for h in hosts)),
        "links_off_sender_domain": off,
    }


def _sender_features(msg: ParsedEmail, sender: str) -> dict[str, float]:
    display = msg.from_display.lower()
    named = {registered(m) for m in _EMAILISH.findall(display)}
    named |= {registered(m.lower()) for m in _DOMAINISH.findall(display)}
    named.discard("")
    reply = {_email_domain(a) for a in msg.reply_to} - {""}
    return {
        "display_name_mismatch": float(bool(named) and bool(sender) and sender not in named),
        "reply_to_elsewhere": float(bool(reply) and bool(sender) and sender not in reply),
    }


def _attachment_features(msg: ParsedEmail) -> dict[str, float]:
    flags = dict.fromkeys(
        (
            "exec_attachment",
            "macro_attachment",
            "archive_attachment",
            "html_attachment",
            "double_extension",
        ),
        0.0,
    )
    for att in msg.attachments:
        exts = _ext(att.filename)
        last = exts[-1] if exts else ""
        ctype = att.content_type
        if last in lexicon.EXECUTABLE or "x-msdownload" in ctype or "x-msdos" in ctype:
            flags["exec_attachment"] = 1.0
        if last in lexicon.MACRO or "macroenabled" in ctype:
            flags["macro_attachment"] = 1.0
        if last in lexicon.ARCHIVE or ctype in ("application/zip", "application/x-rar"):
            flags["archive_attachment"] = 1.0
        if last in lexicon.HTML_ATTACHMENT or ctype == "text/html":
            flags["html_attachment"] = 1.0
        if len(exts) >= 2 and exts[-2] in lexicon.DOCUMENT and last not in lexicon.DOCUMENT:
            flags["double_extension"] = 1.0
    return flags


def _subject_features(subject: str) -> dict[str, float]:
    letters = [c for c in subject if c.isalpha()]
    caps = sum(c.isupper() for c in letters) / len(letters) if len(letters) >= 4 else 0.0
    return {"subject_caps": caps, "subject_exclaim": math.log1p(subject.count("!"))}


def structural_features(msg: ParsedEmail) -> dict[str, float]:
    """Name -> value for every name in STRUCTURAL."""
    sender = _email_domain(msg.from_address)
    lowered = (msg.subject + "\n" + msg.text).lower()
    auth_fail = any(result in ("fail", "softfail", "permerror") for result in msg.auth.values())
    words = len(msg.text.split())
    out: dict[str, float] = {
        **_link_features(msg, sender),
        **_sender_features(msg, sender),
        "urgency_words": math.log1p(len(lexicon.URGENCY_RE.findall(lowered))),
        "credential_words": math.log1p(len(lexicon.CREDENTIAL_RE.findall(lowered))),
        **_attachment_features(msg),
        "html_only": float(msg.html_only),
        "html_form": float(msg.forms > 0),
        "password_field": float(msg.password_inputs > 0),
        "hidden_text": float(msg.hidden_text > 0),
        "auth_fail": float(auth_fail),
        "image_heavy": float(msg.images >= 1 and words < 60),
        **_subject_features(msg.subject),
        "text_length": math.log1p(words) / 10.0,
    }
    return out


def structural_matrix(messages: list[ParsedEmail]) -> NDArray[np.float64]:
    out = np.zeros((len(messages), len(STRUCTURAL)), dtype=np.float64)
    for i, msg in enumerate(messages):
        values = structural_features(msg)
        out[i] = [values[name] for name in STRUCTURAL]
    return out
