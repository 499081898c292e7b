"""Canonical forms of indicator values, shared by the feed readers and the event matcher.

A feed and a log must spell a value the same way for an exact dictionary look-up to find
it, so both sides go through these functions. Every function takes attacker-controlled
text and returns the canonical value, or raises ``ValueError`` with a short reason (readers
count the reason; the matcher treats it as "no value").

- ip: ``ipaddress`` form (IPv6 compressed, lower case); brackets, an IPv6 zone and a
  ``/32`` / ``/128`` suffix are stripped; wider CIDR ranges are refused (not exact).
- domain: lower case, no trailing dot, internationalized labels as punycode; IP addresses,
  bare public suffixes and invalid names are refused.
- url: scheme and host lower case, the scheme's default port dropped, no fragment, no
  user info, the path's trailing slash dropped (``http://a.example/x/`` ==
  ``http://a.example/x`` and ``http://a.example`` == ``http://a.example/``); the path and
  query are otherwise kept as written (case and percent-encoding matter to a server).
- hash: lower-case hex of an MD5, SHA-1, SHA-256 or SHA-512 digest.
- email: lower case ``local@domain`` with a valid domain, angle brackets and a display
  name stripped.

>>> canon_url("HTTP://Evil.Example:80/Gate.php/#frag")
'http://evil.example/Gate.php'
>>> canon_domain("WWW.Evil.Example."), canon_ip("[2001:DB8::1]"), canon_email("Bob <Bob@X.Example>")
('www.evil.example', '2001:db8::1', 'bob@x.example')
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urlsplit

from garrison.detect.ml.domains import parse_domain

KINDS = ("ip", "domain", "url", "hash", "email")

_HEX = re.compile(r"^[0-9a-f]+$")
_CIDR = re.compile(r"^[0-9a-fA-F:.\[\]]+/\d+$")
HASH_ALGORITHMS = {32: "MD5", 40: "SHA-1", 64: "SHA-256", 128: "SHA-512"}
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}
_MAX_VALUE = 4096


def canon_ip(value: str) -> str:
    text = value.strip().lower()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    if "/" in text:
        text, _, bits = text.partition("/")
        if bits not in ("32", "128"):
            raise ValueError("CIDR range (only single addresses match exactly)")
    if "%" in text:
        text = text.split("%", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError("not an IP address") from None


@lru_cache(maxsize=65_536)
def _domain(text: str) -> str:
    parsed = parse_domain(text)
    if not parsed.ok:
        raise ValueError(f"not a domain name ({parsed.reason})")
    if "." not in parsed.text:
        raise ValueError("not a domain name (single label)")
    return parsed.text


def canon_domain(value: str) -> str:
    text = value.strip().lower().rstrip(".")
    if not text or len(text) > _MAX_VALUE:
        raise ValueError("not a domain name (empty or too long)")
    return _domain(text)


def canon_url(value: str) -> str:
    text = value.strip()
    if not text or len(text) > _MAX_VALUE:
        raise ValueError("not a URL (empty or too long)")
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname or ""
    except ValueError as exc:
        raise ValueError(f"not a URL ({exc})") from None
    scheme = parts.scheme.lower()
    if not scheme or not host:
        raise ValueError("not a URL (no scheme or host)")
    try:
        host = canon_ip(host) if _looks_ip(host) else canon_domain(host)
    except ValueError as exc:
        raise ValueError(f"not a URL (host: {exc})") from None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{path}{query}"


def _looks_ip(host: str) -> bool:
    return ":" in host or host.replace(".", "").isdigit()


def url_host(url: str) -> str:
    """Host of a canonical URL (as ``canon_url`` wrote it)."""
    rest = url.split("://", 1)[-1]
    host = rest.split("/", 1)[0].split("?", 1)[0]
    if host.startswith("["):
        return host[1 : host.find("]")]
    return host.rsplit(":", 1)[0] if ":" in host else host


def canon_hash(value: str) -> str:
    text = value.strip().lower()
    if len(text) not in HASH_ALGORITHMS or not _HEX.match(text):
        raise ValueError("not an MD5/SHA-1/SHA-256/SHA-512 hex digest")
    return text


def canon_email(value: str) -> str:
    text = value.strip()
    if "<" in text and ">" in text:
        text = text[text.rindex("<") + 1 : text.rindex(">")]
    text = text.strip().strip("\"'").lower()
    local, sep, domain = text.rpartition("@")
    if not sep or not local or len(text) > 320 or any(c.isspace() for c in local):
        raise ValueError("not an e-mail address")
    return f"{local}@{canon_domain(domain)}"


CANON = {
    "ip": canon_ip,
    "domain": canon_domain,
    "url": canon_url,
    "hash": canon_hash,
    "email": canon_email,
}


def canonical(kind: str, value: object) -> str:
    """Canonical value of ``kind``; ``ValueError`` when it is not one."""
    if not isinstance(value, str):
        raise ValueError(f"value is a {type(value).__name__}, not text")
    func = CANON.get(kind)
    if func is None:
        raise ValueError(f"unsupported indicator type {kind!r}")
    return func(value)


def classify(value: str) -> tuple[str, str] | None:
    """(kind, canonical value) of an untyped indicator, or None. URLs stay URLs here.

    >>> classify("http://Evil.example/x"), classify("10.0.0.1"), classify("bob@Evil.example")
    (('url', 'http://evil.example/x'), ('ip', '10.0.0.1'), ('email', 'bob@evil.example'))
    """
    text = value.strip()
    if not text:
        return None
    if "://" in text:
        order: tuple[str, ...] = ("url",)
    elif _CIDR.match(text):
        order = ("ip",)
    elif "@" in text:
        order = ("email", "url")
    elif "/" in text:
        order = ("url",)
    else:
        order = ("ip", "hash", "domain")
    for kind in order:
        try:
            return kind, CANON[kind](text)
        except ValueError:
            continue
    return None
