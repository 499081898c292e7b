"""Find the indexed indicators an event names: exact dictionary look-ups, nothing fuzzy.

Where values are read (OCSF path first; the flat source fields only when the OCSF path is
empty, so a value is not counted twice):

- ip: ``src_endpoint.ip`` (Zeek ``id.orig_h``, ECS ``source.ip``, Sysmon ``SourceIp``) and
  ``dst_endpoint.ip`` (``id.resp_h``, ``destination.ip``, ``DestinationIp``);
- domain: the DNS query (``query.hostname``; ``query``, ``dns.question.name``,
  ``QueryName``), the HTTP host (``http_request.url.hostname``; ``host``), the TLS SNI
  (``tls.sni``; ``server_name``), the destination host name (``dst_endpoint.hostname``;
  ``DestinationHostname``, ``destination.domain``) and the host of every URL below. A listed
  domain matches itself and its subdomains (``a.evil.example`` matches ``evil.example``),
  never its parents;
- url: ``http_request.url.url_string``, ``url.url_string`` (``url``, ``url.full``,
  ``url.original``, ``request_url``), compared in canonical form (``values.canon_url``);
- hash: ``process.file.hashes``, ``actor.process.file.hashes``, ``file.hashes``, else the
  flat Sysmon ``Hashes`` (``SHA256=..,MD5=..``) and ``md5`` / ``sha1`` / ``sha256`` /
  ``file.hash.*`` / ``process.hash.*`` fields;
- email: the sender of e-mail events (``email.from``, ``email.smtp_from``,
  ``email.reply_to``; ``from``, ``mailfrom``, ``sender``, ``reply_to``,
  ``email.from.address``, ``email.sender.address``).

Canonicalisation of event values is cached (the same names and URLs recur), and a kind
with no indicators is not even read, so a run costs a few dict look-ups per event.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from garrison.detect.intel.model import Indicator, IntelSet
from garrison.detect.intel.values import canon_email, canon_ip, canon_url, url_host

#: (dotted path, its first key, the remaining keys, flat fallback names)
_Paths = tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...]


def _spec(*items: tuple[str, str, tuple[str, ...]]) -> _Paths:
    return tuple(
        (path, path.split(".")[0], tuple(path.split(".")[1:]), flat) for path, _, flat in items
    )


_IP = _spec(
    ("src_endpoint.ip", "", ("id.orig_h", "source.ip", "SourceIp", "src_ip")),
    ("dst_endpoint.ip", "", ("id.resp_h", "destination.ip", "DestinationIp", "dst_ip")),
)
_DOMAIN = _spec(
    ("query.hostname", "", ("query", "dns.question.name", "QueryName")),
    ("http_request.url.hostname", "", ("host", "http.request.host", "url.domain")),
    ("tls.sni", "", ("server_name", "tls.client.server_name")),
    ("dst_endpoint.hostname", "", ("DestinationHostname", "destination.domain")),
)
_URL = _spec(
    ("http_request.url.url_string", "", ("url", "url.full", "url.original", "request_url")),
    ("url.url_string", "", ()),
)
_HASH_OCSF = (
    ("process.file.hashes", ("process", "file", "hashes")),
    ("actor.process.file.hashes", ("actor", "process", "file", "hashes")),
    ("file.hashes", ("file", "hashes")),
)
_HASH_FLAT = (
    "Hashes",
    "md5",
    "sha1",
    "sha256",
    "file.hash.md5",
    "file.hash.sha1",
    "file.hash.sha256",
    "process.hash.md5",
    "process.hash.sha1",
    "process.hash.sha256",
)
_EMAIL = _spec(
    ("email.from", "", ("from", "mailfrom", "sender", "email.from.address")),
    ("email.smtp_from", "", ("email.sender.address",)),
    ("email.reply_to", "", ("reply_to", "email.reply_to.address")),
)
_MAX_VALUE = 2048
#: Every flat field name read above: one set intersection per event finds which it has.
_FLAT_ALL = frozenset(
    [n for spec in (_IP, _DOMAIN, _URL, _EMAIL) for *_, flat in spec for n in flat]
    + list(_HASH_FLAT)
)
_NONE: frozenset[str] = frozenset()


@dataclass(slots=True, frozen=True)
class Hit:
    """One indicator value an event names: where, as observed, and the feed entries."""

    kind: str
    value: str
    observed: str
    field: str
    indicators: list[Indicator]


def _dig(obj: Any, parts: tuple[str, ...]) -> Any:
    for part in parts:
        if obj.__class__ is not dict:
            return None
        obj = obj.get(part)
    return obj


def _values(
    ocsf: dict[str, Any], fields: Any, present: frozenset[str], spec: _Paths
) -> list[tuple[str, str]]:
    """(field path, text) for each place in ``spec`` that holds text.

    ``present`` is the set of flat names the event has (computed once per event), so the
    fallback costs nothing for the many events that lack them.
    """
    out: list[tuple[str, str]] = []
    for path, head, rest, flat in spec:
        value = ocsf.get(head)
        if value is not None and rest:
            value = _dig(value, rest)
        if value.__class__ is str and value:
            out.append((path, value))
            continue
        if present and not present.isdisjoint(flat):
            for name in flat:
                value = fields.get(name)
                if value.__class__ is str and value:
                    out.append((name, value))
                    break
    return out


@lru_cache(maxsize=65_536)
def _ip(text: str) -> str:
    try:
        return canon_ip(text)
    except ValueError:
        return ""


@lru_cache(maxsize=262_144)
def _name(text: str) -> str:
    """Canonical form of an observed host name (port dropped, IDN as punycode), or ""."""
    name = text.strip().lower().rstrip(".")
    if ":" in name and not name.startswith("["):
        head, _, port = name.rpartition(":")
        if port.isdigit():
            name = head
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except (UnicodeError, ValueError):
            return ""
    return name if 0 < len(name) <= 253 else ""


@lru_cache(maxsize=131_072)
def _url(text: str) -> str:
    try:
        return canon_url(text)
    except ValueError:
        return ""


@lru_cache(maxsize=65_536)
def _email(text: str) -> str:
    try:
        return canon_email(text)
    except ValueError:
        return ""


@lru_cache(maxsize=16_384)
def _sysmon_hashes(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for part in text.split(","):
        _, sep, digest = part.partition("=")
        if sep and digest.strip():
            out.append(digest.strip().lower())
    return tuple(out)


class Matcher:
    """Looks the values of an event up in an ``IntelSet``'s per-kind dicts."""

    def __init__(self, intel: IntelSet) -> None:
        self.ips = intel.by_kind.get("ip", {})
        self.domains = intel.by_kind.get("domain", {})
        self.urls = intel.by_kind.get("url", {})
        self.hashes = intel.by_kind.get("hash", {})
        self.emails = intel.by_kind.get("email", {})

    def match(self, ocsf: Any, fields: Any) -> list[Hit]:
        """Every indicator the event names (OCSF dict and flat fields of any shape)."""
        if ocsf.__class__ is not dict:
            ocsf = {}
        present = _FLAT_ALL.intersection(fields) if fields.__class__ is dict else _NONE
        hits: list[Hit] = []
        if self.ips:
            self._ips(ocsf, fields, present, hits)
        if self.domains or self.urls:
            self._names(ocsf, fields, present, hits)
        if self.hashes:
            self._hashes(ocsf, fields, present, hits)
        if self.emails:
            for path, text in _values(ocsf, fields, present, _EMAIL):
                value = _email(text[:_MAX_VALUE])
                found = self.emails.get(value) if value else None
                if found:
                    hits.append(Hit("email", value, text[:200], path, found))
        return hits

    def _ips(
        self, ocsf: dict[str, Any], fields: Any, present: frozenset[str], hits: list[Hit]
    ) -> None:
        for path, text in _values(ocsf, fields, present, _IP):
            found = self.ips.get(text)
            value = text
            # a plain dotted quad is already canonical: only other spellings are parsed
            if (
                found is None
                and len(text) <= 64
                and (":" in text or not text.isprintable() or text != text.strip())
            ):
                value = _ip(text)
                found = self.ips.get(value) if value else None
            if found:
                hits.append(Hit("ip", value, text, path, found))

    def _names(
        self, ocsf: dict[str, Any], fields: Any, present: frozenset[str], hits: list[Hit]
    ) -> None:
        names = _values(ocsf, fields, present, _DOMAIN) if self.domains else []
        for path, text in _values(ocsf, fields, present, _URL):
            url = _url(text[:_MAX_VALUE])
            if not url:
                continue
            found = self.urls.get(url) if self.urls else None
            if found:
                hits.append(Hit("url", url, text[:200], path, found))
            if self.domains:
                names.append((f"{path} (host)", url_host(url)))
        seen: set[str] = set()
        for path, text in names:
            name = _name(text[:_MAX_VALUE])
            if not name or name in seen:
                continue
            seen.add(name)
            self._domain(name, text, path, hits)

    def _domain(self, name: str, text: str, path: str, hits: list[Hit]) -> None:
        """The name and each parent domain: a listed domain covers its subdomains."""
        probe = name
        while True:
            found = self.domains.get(probe)
            if found:
                hits.append(Hit("domain", probe, text[:200], path, found))
            dot = probe.find(".")
            if dot < 0:
                return
            probe = probe[dot + 1 :]

    def _hashes(
        self, ocsf: dict[str, Any], fields: Any, present: frozenset[str], hits: list[Hit]
    ) -> None:
        digests: list[tuple[str, str]] = []
        for path, parts in _HASH_OCSF:
            listed = ocsf.get(parts[0])
            if listed is None:
                continue
            listed = _dig(listed, parts[1:])
            if listed.__class__ is list:
                for item in listed[:8]:
                    value = item.get("value") if item.__class__ is dict else None
                    if value.__class__ is str:
                        digests.append((path, value))
        if not digests and present and not present.isdisjoint(_HASH_FLAT):
            raw = fields.get("Hashes")
            if raw.__class__ is str and len(raw) < _MAX_VALUE:
                digests += [("Hashes", d) for d in _sysmon_hashes(raw)]
            for name in _HASH_FLAT[1:]:
                value = fields.get(name)
                if value.__class__ is str:
                    digests.append((name, value))
        for path, digest in digests:
            value = digest.strip().lower()
            found = self.hashes.get(value)
            if found:
                hits.append(Hit("hash", value, digest[:200], path, found))
