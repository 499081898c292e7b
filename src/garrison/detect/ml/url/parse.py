"""URLs from hostile input: split, normalize and validate without ever raising.

Every proxy and web log carries URLs an attacker wrote, so ``parse_url`` turns any value
into a ``ParsedUrl`` whose ``status`` is ``"ok"`` or ``"invalid"`` with a ``reason``.
Accepted: ``http``/``https``/``ftp`` URLs, scheme-less ones (``example.com/x``), IPv4 /
IPv6 / numeric hosts, user-info (``https://paypal.com@evil.example/``), IDN hosts (to
punycode), ports. Refused with a reason: other schemes (``mailto:``, ``javascript:``),
control characters or spaces, hosts that are not DNS names or addresses, over-long lines.

Normalization removes what says more about how a data set was collected than about the
URL (see ``garrison eval url``'s ablation): the scheme, a leading ``www.``, one trailing
``/``, HTML-escaped ``&amp;`` and the local part of e-mail addresses (PhishTank redacts
them all to ``abuse@``). ``key`` is the normalized form the model reads; the original
scheme and ``www.`` are kept on the object for reporting only.

>>> p = parse_url("HTTPS://www.PayPal.com.secure-login.example.co.uk:8080/a/b/?x=1&amp;y=2")
>>> (p.status, p.scheme, p.host, p.port, p.rest)
('ok', 'https', 'paypal.com.secure-login.example.co.uk', 8080, '/a/b?x=1&y=2')
>>> (p.registered, p.subdomain)
('example.co.uk', 'paypal.com.secure-login')
>>> parse_url("javascript:alert(1)").reason
'unsupported scheme: javascript'
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import tldextract

#: Longest URL considered (characters); longer inputs are invalid, not truncated silently.
MAX_URL = 8192
MAX_HOST = 253
STATUS_OK = "ok"
STATUS_INVALID = "invalid"
WEB_SCHEMES = frozenset({"http", "https", "ftp", "hxxp", "hxxps"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]{0,30}):")
_BAD_CHARS = re.compile(r"[\x00-\x20\x7f]")
_HOST_CHARS = re.compile(r"^[a-z0-9_\-.]+$")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@([A-Za-z0-9\-]+\.)+[A-Za-z]{2,}")
_DOTTED = re.compile(r"^[0-9a-fx.]+$")
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)$")


@dataclass(slots=True, frozen=True)
class ParsedUrl:
    """One URL, split and normalized (see the module docstring)."""

    text: str
    status: str = STATUS_OK
    reason: str = ""
    scheme: str = ""
    userinfo: bool = False
    host: str = ""
    port: int | None = None
    registered: str = ""
    subdomain: str = ""
    suffix: str = ""
    ip: bool = False
    idn: bool = False
    www: bool = False
    #: Path, query (no fragment), normalized; "" for the site root.
    rest: str = ""
    fragment: bool = False
    email_in_url: bool = False

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    @property
    def key(self) -> str:
        """The normalized URL the model reads: ``host[:port]rest``."""
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.host}{port}{self.rest}"

    @property
    def site(self) -> str:
        """What a domain-disjoint split groups by: the registered domain, else the host."""
        return self.registered or self.host


def _invalid(text: str, reason: str) -> ParsedUrl:
    return ParsedUrl(text=text[:MAX_URL], status=STATUS_INVALID, reason=reason)


def parse_url(raw: Any) -> ParsedUrl:
    """Parse one URL from any value; never raises.

    >>> parse_url("").reason
    'empty'
    >>> parse_url("10.1.2.3/login.php").ip
    True
    >>> parse_url("http://user@xn--pypal-4ve.com/").idn
    True
    """
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _invalid(raw.decode("utf-8", "replace"), "not valid UTF-8")
    if not isinstance(raw, str):
        if raw is None or isinstance(raw, bool | dict | list | tuple | set):
            return _invalid("", "not a URL")
        raw = str(raw)
    try:
        return _parse(raw)
    except Exception as exc:  # a parser bug must not end a run: report it per input
        return _invalid(raw, f"unparseable URL ({type(exc).__name__})")


@lru_cache(maxsize=65_536)
def _parse(raw: str) -> ParsedUrl:
    text = raw.strip()
    if not text:
        return _invalid(text, "empty")
    if len(text) > MAX_URL:
        return _invalid(text, f"URL longer than {MAX_URL} characters")
    if _BAD_CHARS.search(text):
        return _invalid(text, "control characters or spaces inside the URL")
    scheme, body = _split_scheme(text)
    if scheme not in WEB_SCHEMES and scheme:
        return _invalid(text, f"unsupported scheme: {scheme}")
    body = body.lstrip("/") if scheme or body.startswith("//") else body
    cut = len(body)
    for sep in "/?#\\":
        at = body.find(sep)
        if 0 <= at < cut:
            cut = at
    netloc, rest = body[:cut], body[cut:]
    userinfo = "@" in netloc
    if userinfo:
        netloc = netloc.rsplit("@", 1)[1]
    host, port, why = _host_port(netloc)
    if why:
        return _invalid(text, why)
    return _build(text, scheme.replace("hxxp", "http"), userinfo, host, port, rest)


def _split_scheme(text: str) -> tuple[str, str]:
    """Scheme (lower case, "" when absent) and the rest. ``example.com:8080/x`` has no
    scheme: a "scheme" followed by digits is a host and port."""
    m = _SCHEME.match(text)
    if m is None:
        return "", text
    after = text[m.end() :]
    if after.startswith("//") or not after[:1].isdigit():
        name = m.group(1).lower()
        if after.startswith("//") or name in WEB_SCHEMES or "." not in name:
            return name, after
    return "", text


def _host_port(netloc: str) -> tuple[str, int | None, str]:
    """Host (lower case, no trailing dot), port, and why they are unusable."""
    if not netloc:
        return "", None, "no host"
    port: int | None = None
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            return "", None, "unterminated IPv6 address"
        host, tail = netloc[1:end], netloc[end + 1 :]
        if tail and not tail.startswith(":"):
            return "", None, "junk after IPv6 address"
        port_text = tail[1:]
    else:
        host, _, port_text = netloc.partition(":")
    if port_text:
        if not port_text.isdigit() or len(port_text) > 5 or int(port_text) > 65535:
            return "", None, "invalid port"
        port = int(port_text)
    host = host.lower().rstrip(".")
    if not host:
        return "", None, "no host"
    return host, port, ""


def _is_ip(host: str) -> bool:
    if ":" not in host and not _DOTTED.match(host):
        return False
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return bool(_NUMERIC_HOST.match(host))  # 3232235777, 0xc0a80001: browsers accept
    return True


def _build(
    text: str, scheme: str, userinfo: bool, host: str, port: int | None, rest: str
) -> ParsedUrl:
    fragment = "#" in rest
    rest = rest.split("#", 1)[0].replace("\\", "/").replace("&amp;", "&")
    rest, n_emails = _EMAIL.subn("u@mail.example", rest)
    path, sep, query = rest.partition("?")
    if path.endswith("/"):
        path = path[:-1]
    rest = path + (sep + query if query else "")
    common: dict[str, Any] = {
        "text": text,
        "scheme": scheme,
        "userinfo": userinfo,
        "port": port,
        "rest": rest,
        "fragment": fragment,
        "email_in_url": n_emails > 0,
    }
    if _is_ip(host):
        return ParsedUrl(host=host, ip=True, **common)
    if host.isascii() and not _HOST_CHARS.match(host):
        return _invalid(text, "host has invalid characters")
    domain = _domain(host)
    if isinstance(domain, str):
        return _invalid(text, f"host: {domain}")
    name, registered, subdomain, suffix, idn = domain
    www = subdomain == "www" or subdomain.startswith("www.")
    if www:
        name, subdomain = name[4:], subdomain[4:]
    return ParsedUrl(
        host=name,
        registered=registered,
        subdomain=subdomain,
        suffix=suffix,
        idn=idn,
        www=www,
        **common,
    )


@lru_cache(maxsize=131_072)
def _domain(host: str) -> tuple[str, str, str, str, bool] | str:
    """(name, registered domain, subdomain, public suffix, IDN) of a host that is not an
    address, or why it is no DNS name. The same reading as ``detect.ml.domains`` (offline
    Public Suffix List), without its address check, which ``_is_ip`` already made."""
    idn = "xn--" in host
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except (UnicodeError, ValueError):
            return "undecodable internationalized name"
        idn = True
    if len(host) > MAX_HOST:
        return f"name too long ({len(host)} > {MAX_HOST} characters)"
    if not _HOST_CHARS.match(host):
        return "invalid characters"
    labels = host.split(".")
    if any(not label for label in labels):
        return "empty label"
    if any(len(label) > 63 for label in labels):
        return "label longer than 63 characters"
    ext = _extractor()(host)
    if not ext.domain:
        return "no registrable domain (public suffix only)"
    registered = f"{ext.domain}.{ext.suffix}" if ext.suffix else ext.domain
    return host, registered, ext.subdomain, ext.suffix, idn


@cache
def _extractor() -> tldextract.TLDExtract:
    """Offline: the bundled suffix list, no URLs, no cache directory."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
