"""Domain names from hostile input: validation, IDN handling, registered-domain extraction.

Every DNS and web log carries names an attacker chose, so parsing never raises: each input
becomes a ``ParsedDomain`` whose ``status`` is ``"ok"`` or ``"invalid"`` with a ``reason``.
Registered domains come from ``tldextract`` with its bundled Public Suffix List snapshot and
no suffix-list URLs, so nothing is fetched at run time. The DNS view helpers read the query
name, type, answer code and querier off both OCSF DNS Activity events and Zeek's flat
``dns.log`` fields, and the names carried by HTTP and TLS events, so the DGA and tunnelling
detectors share one reading of the telemetry.

>>> p = parse_domain("WWW.Example.CO.UK.")
>>> (p.status, p.registered, p.name, p.suffix, p.subdomain)
('ok', 'example.co.uk', 'example', 'co.uk', 'www')
>>> parse_domain("10.0.0.1").reason
'ip address'
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import tldextract

from garrison.core.events import CLASS_HTTP_ACTIVITY
from garrison.core.paths import dig

#: RFC 1035 limits: 253 characters for the name, 63 per label.
MAX_NAME = 253
MAX_LABEL = 63
#: Characters a DNS name may hold here; ``_`` appears in SRV/DKIM names and tunnels.
_NAME_CHARS = re.compile(r"^[a-z0-9_\-.]+$")
#: Letters, digits and hyphens only: what the DGA model can score.
_LDH = re.compile(r"^[a-z0-9\-]+$")

STATUS_OK = "ok"
STATUS_INVALID = "invalid"


@dataclass(slots=True, frozen=True)
class ParsedDomain:
    """One domain name, normalized: lower case, no trailing dot, IDN labels as punycode.

    ``name`` is the registered label the DGA model scores (``example`` in
    ``www.example.co.uk``); ``suffix`` the public suffix (empty when the name has none, as
    for ``corp.local``); ``unicode`` the decoded form of an internationalized name.
    """

    text: str
    registered: str = ""
    name: str = ""
    suffix: str = ""
    subdomain: str = ""
    status: str = STATUS_OK
    reason: str = ""
    idn: bool = False
    unicode: str = ""

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    @property
    def scorable(self) -> bool:
        """Whether the DGA model can score ``name``: valid, ASCII letters/digits/hyphens."""
        return (
            self.ok
            and bool(self.name)
            and _LDH.match(self.name) is not None
            and not (self.name.startswith("xn--"))
        )

    @property
    def labels(self) -> list[str]:
        return self.subdomain.split(".") if self.subdomain else []


def _invalid(text: str, reason: str) -> ParsedDomain:
    return ParsedDomain(text=text[:MAX_NAME], status=STATUS_INVALID, reason=reason)


@cache
def _extractor() -> tldextract.TLDExtract:
    """The offline extractor: bundled suffix list, no URLs, no cache directory."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _is_ip(text: str) -> bool:
    candidate = text.strip("[]")
    if "%" in candidate:  # IPv6 zone index
        candidate = candidate.split("%", 1)[0]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def _to_ascii(text: str) -> tuple[str, bool, str]:
    """Punycode form of a name, whether it is an IDN, and why it could not be encoded."""
    idn = any(label.startswith("xn--") for label in text.split("."))
    if text.isascii():
        return text, idn, ""
    labels: list[str] = []
    for label in text.split("."):
        if label.isascii():
            labels.append(label)
            continue
        try:
            labels.append(label.encode("idna").decode("ascii"))
        except (UnicodeError, ValueError):
            return text, True, "undecodable internationalized name"
    return ".".join(labels), True, ""


def _to_unicode(text: str) -> str:
    out: list[str] = []
    for label in text.split("."):
        if label.startswith("xn--"):
            try:
                out.append(label.encode("ascii").decode("idna"))
            except (UnicodeError, ValueError):
                out.append(label)
        else:
            out.append(label)
    return ".".join(out)


def _normalize(raw: str) -> str:
    text = raw.strip().lower()
    if text.endswith("."):
        text = text[:-1]
    return text


def _validate(text: str) -> str:
    """Why a normalized ASCII name is unusable, or ``""``."""
    if len(text) > MAX_NAME:
        return f"name too long ({len(text)} > {MAX_NAME} characters)"
    if not _NAME_CHARS.match(text):
        return "invalid characters"
    labels = text.split(".")
    if any(not label for label in labels):
        return "empty label"
    if any(len(label) > MAX_LABEL for label in labels):
        return f"label longer than {MAX_LABEL} characters"
    return ""


def parse_domain(raw: Any) -> ParsedDomain:
    """Parse one domain name from any value; never raises.

    >>> parse_domain("").reason
    'empty'
    >>> parse_domain("münchen.de").idn, parse_domain("münchen.de").registered
    (True, 'xn--mnchen-3ya.de')
    >>> parse_domain("corp.local").suffix, parse_domain("corp.local").name
    ('', 'local')
    """
    if not isinstance(raw, str):
        if raw is None or isinstance(raw, bool | dict | list | tuple | set | bytes):
            return _invalid("", "not a name")
        raw = str(raw)
    return _parse_text(raw)


@lru_cache(maxsize=262_144)
def _parse_text(raw: str) -> ParsedDomain:
    if len(raw) > 4 * MAX_NAME:
        return _invalid(raw, f"name too long ({len(raw)} characters)")
    text = _normalize(raw)
    if not text:
        return _invalid(text, "empty")
    if _is_ip(text):
        return _invalid(text, "ip address")
    text, idn, why = _to_ascii(text)
    if why:
        return _invalid(text, why)
    reason = _validate(text)
    if reason:
        return _invalid(text, reason)
    ext = _extractor()(text)
    if not ext.domain:
        return _invalid(text, "no registrable domain (public suffix only)")
    registered = f"{ext.domain}.{ext.suffix}" if ext.suffix else ext.domain
    return ParsedDomain(
        text=text,
        registered=registered,
        name=ext.domain,
        suffix=ext.suffix,
        subdomain=ext.subdomain,
        idn=idn,
        unicode=_to_unicode(text) if idn else "",
    )


# --- reading names off events -------------------------------------------------------------

#: Where an event names a domain, by convention: OCSF paths first, then flat source fields
#: (Zeek dns/http/ssl, ECS-style JSON). The first non-empty value wins.
_DNS_QUERY_PATHS = ("query.hostname",)
_DNS_QUERY_FIELDS = ("query", "dns.question.name", "dns.query", "QueryName")
_OTHER_NAME_PATHS = ("http_request.url.hostname", "tls.sni", "url.hostname")
_OTHER_NAME_FIELDS = (
    "server_name",
    "url.domain",
    "tls.client.server_name",
    "http.request.host",
    "destination.domain",
)


#: Zeek http.log's ``host`` is the HTTP Host header; in other logs (sign-ins, generic JSON
#: lines) ``host`` names the machine the event is about, which no one "visited".
_HTTP_HOST_FIELDS = ("host",)


def _is_http(ocsf: Any) -> bool:
    return isinstance(ocsf, dict) and ocsf.get("class_uid") == CLASS_HTTP_ACTIVITY


def _first_text(ocsf: Any, fields: Any, paths: tuple[str, ...], names: tuple[str, ...]) -> str:
    for path in paths:
        value = dig(ocsf, path)
        if isinstance(value, str) and value and value != "-":
            return value
    if isinstance(fields, dict):
        for name in names:
            value = fields.get(name)
            if isinstance(value, str) and value and value != "-":
                return value
    return ""


@dataclass(slots=True, frozen=True)
class DnsView:
    """What the DNS detectors need from one event; empty strings when a log lacks a field."""

    query: str
    qtype: str = ""
    rcode: str = ""
    querier: str = ""
    querier_host: str = ""
    answers: int = 0
    #: Bytes of the query name plus answers as logged: a proxy for payload moved.
    size: int = 0
    is_dns: bool = True


def _text(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    text = str(value).strip()
    return "" if text in ("-", "(empty)") else text


def _answers(ocsf: Any, fields: Any) -> tuple[int, int]:
    """Number of answers and their total text length, from OCSF or Zeek's vector."""
    answers = dig(ocsf, "answers")
    if isinstance(answers, list):
        texts = [_text(a.get("rdata")) if isinstance(a, dict) else _text(a) for a in answers]
        return len([t for t in texts if t]), sum(len(t) for t in texts)
    raw = fields.get("answers") if isinstance(fields, dict) else None
    if isinstance(raw, list):
        texts = [_text(a) for a in raw]
    else:
        text = _text(raw)
        texts = text.split(",") if text else []
    return len(texts), sum(len(t) for t in texts)


def dns_view(ocsf: Any, fields: Any) -> DnsView | None:
    """The DNS query an event describes, or None when it names no query.

    Works on OCSF DNS Activity (``query.hostname``, ``query.type``, ``rcode``,
    ``src_endpoint.ip``) and on Zeek ``dns.log`` fields (``query``, ``qtype_name``,
    ``rcode_name``, ``id.orig_h``).
    """
    query = _first_text(ocsf, fields, _DNS_QUERY_PATHS, _DNS_QUERY_FIELDS)
    if not query:
        return None
    flat = fields if isinstance(fields, dict) else {}
    qtype = (
        _text(dig(ocsf, "query.type"))
        or _text(flat.get("qtype_name"))
        or _text(flat.get("dns.question.type"))
    )
    rcode = (
        _text(dig(ocsf, "rcode"))
        or _text(flat.get("rcode_name"))
        or _text(flat.get("dns.response_code"))
    )
    querier = (
        _text(dig(ocsf, "src_endpoint.ip"))
        or _text(flat.get("id.orig_h"))
        or _text(flat.get("source.ip"))
    )
    host = _text(dig(ocsf, "src_endpoint.hostname")) or _text(dig(ocsf, "device.hostname"))
    n_answers, answer_bytes = _answers(ocsf, flat)
    return DnsView(
        query=query,
        qtype=qtype.upper(),
        rcode=rcode.upper(),
        querier=querier,
        querier_host=host,
        answers=n_answers,
        size=len(query) + answer_bytes,
    )


def named_domain(ocsf: Any, fields: Any) -> DnsView | None:
    """A name from a DNS query, or else from an HTTP host or TLS SNI (``is_dns`` False)."""
    view = dns_view(ocsf, fields)
    if view is not None:
        return view
    name = _first_text(ocsf, fields, _OTHER_NAME_PATHS, _OTHER_NAME_FIELDS)
    if not name and _is_http(ocsf):
        name = _first_text(None, fields, (), _HTTP_HOST_FIELDS)
    if "." not in name:  # no name, or a single label (a machine, not a visited domain)
        return None
    if ":" in name and not name.startswith("["):  # host:port from an HTTP Host header
        head, _, port = name.rpartition(":")
        if port.isdigit():
            name = head
    flat = fields if isinstance(fields, dict) else {}
    querier = (
        _text(dig(ocsf, "src_endpoint.ip"))
        or _text(flat.get("id.orig_h"))
        or _text(flat.get("source.ip"))
    )
    host = _text(dig(ocsf, "src_endpoint.hostname")) or _text(dig(ocsf, "device.hostname"))
    return DnsView(query=name, querier=querier, querier_host=host, is_dns=False)
