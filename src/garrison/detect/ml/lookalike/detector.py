"""Detector ``ml.lookalike``: domains in use that imitate the organisation or a known brand.

``observe`` reads every name an event carries -- a DNS query (Zeek ``dns.log``, Sysmon 22,
OCSF DNS Activity), an HTTP host, a TLS SNI, a URL's host, an e-mail sender's domain -- and
aggregates per registered domain: how often it was used, by whom (querying address, host,
user), what it resolved to, and its first events. It also learns the organisation's
internal DNS domains from the host names of its own machines (``WS1.contoso.local`` on at
least ``learn_min_hosts`` hosts). ``finish`` matches each registered domain against the
protected names (``match``) and reports one finding per lookalike domain, naming the
domain and its host names, the clients that used it, the addresses it resolved to (public
ones) and the users, with the events as evidence.

Protected names: the organisation's domains (option ``protected_domains``: a list or a file
with one per line; these and ``owned_domains`` are never reported themselves), the learnt
internal domains (option ``learn_internal_domains``, default on), and the bundled brand
list ``garrison/content/lookalike/brands.yml`` (option ``brands``: another YAML file, or
"none").

A DNS look-up that did not resolve (NXDOMAIN or another error) is not reported: a mistyped
name nobody registered is a typo, not infrastructure; the look-ups are counted in
``stats``. Severity: High when the organisation is imitated, Medium for a brand.
Confidence is a fixed heuristic scale per transformation (below), set before evaluation,
not a calibrated probability; ``garrison eval lookalike`` reports each transformation's
precision on the phishing-URL corpus.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.core.attack import attack_of
from garrison.core.entities import Entity, entities_of, normalize_entity
from garrison.core.events import Event
from garrison.core.findings import SEVERITY_HIGH, SEVERITY_MEDIUM, Evidence, Finding
from garrison.core.options import names_or_file, option
from garrison.core.paths import dig
from garrison.detect.base import DETECTORS, Detector, DetectorContext
from garrison.detect.ml.domains import ParsedDomain, named_domain, parse_domain
from garrison.detect.ml.lookalike.match import (
    ORG,
    Match,
    Matcher,
    Protected,
    load_brands,
    org_protected,
)
from garrison.detect.options import DETECTOR_OPTIONS, options_of

MODEL_VERSION = "lookalike-1.0"
#: Confidence (0-100) per transformation: organisation, brand. A heuristic scale.
CONFIDENCE = {
    "homoglyph": (85, 75),
    "subdomain": (75, 65),
    "hyphenation": (80, 65),
    "typo": (80, 60),
    "combo": (70, 55),
    "tld-swap": (65, 50),
}
_EMAIL_FIELDS = (
    "from",
    "mailfrom",
    "reply_to",
    "sender",
    "email.from.address",
    "email.sender.address",
    "email.reply_to.address",
)
_EMAIL_PATHS = ("email.from", "email.smtp_from", "email.reply_to")
_URL_FIELDS = ("url", "url.original", "url.full", "request_url", "uri")
_URL_PATHS = ("url.url_string", "http_request.url.url_string")
_HOST_FIELDS = ("Computer", "Hostname", "hostname", "host.name", "ComputerName")
_ADDRESS = re.compile(r"[0-9a-fA-F:.]{3,45}")
_OK_RCODES = frozenset({"", "NOERROR", "0", "NOERROR(0)"})


def _domains(value: str | list[str]) -> tuple[str, ...]:
    """An array of domains, a file of them (one per line) or one domain written alone."""
    if isinstance(value, str) and not Path(value).is_file():
        value = [value]
    return names_or_file(value)


@DETECTOR_OPTIONS.register("ml.lookalike")
@dataclass(slots=True, frozen=True)
class LookalikeOptions:
    """Options (``[detectors."ml.lookalike"]`` in garrison.toml)."""

    protected_domains: tuple[str, ...] = option((), accepts=list[str] | str, convert=_domains)
    owned_domains: tuple[str, ...] = option((), accepts=list[str] | str, convert=_domains)
    learn_internal_domains: bool = True
    learn_min_hosts: int = option(3, min=0)
    brands: str = ""
    max_domains: int = option(100_000, min=0)
    max_evidence: int = option(10, min=0)
    max_named: int = option(20, min=0)


@dataclass(slots=True)
class _Seen:
    """One registered domain as used in this run."""

    parsed: ParsedDomain
    uses: int = 0
    unresolved: int = 0
    first: int = 0
    names: dict[str, None] = field(default_factory=dict)
    clients: dict[Entity, None] = field(default_factory=dict)
    answers: dict[Entity, None] = field(default_factory=dict)
    via: dict[str, None] = field(default_factory=dict)
    evidences: list[Evidence] = field(default_factory=list)


class LookalikeDetector(Detector):
    id = "ml.lookalike"
    name = "Lookalike domains"

    def __init__(self, options: LookalikeOptions | None = None) -> None:
        self.options = options or LookalikeOptions()
        brands = load_brands("" if self.options.brands in ("", "none") else self.options.brands)
        self.brands = [] if self.options.brands == "none" else brands.brands
        self.keywords = brands.keywords
        self.seen: dict[str, _Seen] = {}
        self.internal: dict[str, set[str]] = {}
        self.counts = {"names": 0, "invalid": 0, "unresolved": 0, "dropped": 0}

    # -- observe -----------------------------------------------------------------------------
    def observe(self, events: Sequence[Event]) -> list[Finding]:
        for event in events:
            try:
                self._observe(event)
            except Exception:  # hostile content must not stop the run
                self.counts["invalid"] += 1
        return []

    def _observe(self, event: Event) -> None:
        ocsf = event.ocsf if isinstance(event.ocsf, dict) else {}
        fields = event.fields if isinstance(event.fields, dict) else {}
        if self.options.learn_internal_domains:
            self._learn(ocsf, fields)
        view = named_domain(ocsf, fields)
        names: list[tuple[str, str]] = []
        resolved = True
        if view is not None:
            names.append((view.query, "dns" if view.is_dns else "web"))
            if view.is_dns:
                resolved = _resolved(view.rcode, ocsf)
        names += [(n, "email") for n in _email_domains(ocsf, fields)]
        names += [(n, "url") for n in _url_hosts(ocsf, fields)]
        for name, via in dict.fromkeys(names):
            self._record(event, ocsf, fields, name, via, resolved or via != "dns")

    def _learn(self, ocsf: dict[str, Any], fields: dict[str, Any]) -> None:
        for value in (dig(ocsf, "device.hostname"), *(fields.get(k) for k in _HOST_FIELDS)):
            if not isinstance(value, str) or value.count(".") < 1 or len(value) > 253:
                continue
            host, _, domain = value.strip().lower().rstrip(".").partition(".")
            if host and domain and not domain[0].isdigit():
                hosts = self.internal.setdefault(domain, set())
                if len(hosts) < self.options.learn_min_hosts:
                    hosts.add(host)
            return

    def _record(
        self,
        event: Event,
        ocsf: dict[str, Any],
        fields: dict[str, Any],
        name: str,
        via: str,
        resolved: bool,
    ) -> None:
        self.counts["names"] += 1
        parsed = parse_domain(name)
        if not parsed.ok or not parsed.name:
            self.counts["invalid"] += 1
            return
        key = parsed.registered
        seen = self.seen.get(key)
        if seen is None:
            if len(self.seen) >= self.options.max_domains:
                self.counts["dropped"] += 1
                return
            seen = self.seen[key] = _Seen(parsed, first=event.time)
        seen.uses += 1
        if not resolved:
            seen.unresolved += 1
            self.counts["unresolved"] += 1
            return
        cap = self.options.max_named
        seen.first = min(seen.first, event.time) if seen.first else event.time
        seen.via.setdefault(via)
        if len(seen.names) < cap:
            seen.names.setdefault(parsed.text)
        for entity in _clients(ocsf, fields):
            if len(seen.clients) < cap:
                seen.clients.setdefault(entity)
        if via == "dns":
            for entity in _answers(ocsf, fields):
                if len(seen.answers) < 5:
                    seen.answers.setdefault(entity)
        if len(seen.evidences) < self.options.max_evidence:
            seen.evidences.append(
                Evidence(
                    event.source_path,
                    event.record_id,
                    event.uid,
                    event.time,
                    (("name", parsed.text[:255]), ("seen in", via)),
                )
            )

    # -- finish ------------------------------------------------------------------------------
    def protected(self) -> list[Protected]:
        out: list[Protected] = []
        owned = set(self.options.owned_domains) | set(self.options.protected_domains)
        for domain in self.options.protected_domains:
            prot = org_protected(domain, "configured")
            if prot is not None:
                out.append(prot)
        for domain, hosts in sorted(self.internal.items()):
            if len(hosts) >= self.options.learn_min_hosts:
                prot = org_protected(domain, f"learnt from the names of {len(hosts)}+ hosts")
                if prot is not None and prot.label not in {p.label for p in out}:
                    out.append(prot)
        out = [
            Protected(
                p.label, p.party, p.kind, p.domain, p.suffix, p.word, p.owned | owned, p.source
            )
            for p in out
        ]
        return out + self.brands

    def finish(self) -> list[Finding]:
        matcher = Matcher(self.protected(), self.keywords)
        findings: list[Finding] = []
        for seen in sorted(self.seen.values(), key=lambda s: (s.first, s.parsed.registered)):
            if not seen.evidences:
                continue
            match = None
            for name in seen.names:  # a subdomain trick shows in the full name
                match = matcher.match(parse_domain(name))
                if match is not None:
                    break
            if match is not None:
                findings.append(_finding(seen, match))
        self.counts["findings"] = len(findings)
        return findings

    def stats(self) -> dict[str, Any]:
        learnt = [d for d, h in self.internal.items() if len(h) >= self.options.learn_min_hosts]
        return {
            **self.counts,
            "registered_domains": len(self.seen),
            "protected_configured": len(self.options.protected_domains),
            "internal_domains_learnt": sorted(learnt)[:20],
            "brands": len(self.brands),
        }


def _resolved(rcode: str, ocsf: dict[str, Any]) -> bool:
    rcode_id = ocsf.get("rcode_id")
    if isinstance(rcode_id, int) and not isinstance(rcode_id, bool) and rcode_id != 0:
        return False
    return rcode.upper() in _OK_RCODES


def _email_domains(ocsf: dict[str, Any], fields: dict[str, Any]) -> list[str]:
    values = [dig(ocsf, p) for p in _EMAIL_PATHS] + [fields.get(k) for k in _EMAIL_FIELDS]
    out: list[str] = []
    for value in values:
        if isinstance(value, str) and "@" in value and len(value) < 512:
            domain = value.rsplit("@", 1)[1].strip(" >\"'").lower()
            if domain:
                out.append(domain)
    return out[:3]


def _url_hosts(ocsf: dict[str, Any], fields: dict[str, Any]) -> list[str]:
    from urllib.parse import urlsplit

    values = [dig(ocsf, p) for p in _URL_PATHS] + [fields.get(k) for k in _URL_FIELDS]
    out: list[str] = []
    for value in values:
        if isinstance(value, str) and "://" in value[:16] and len(value) < 4096:
            try:
                host = urlsplit(value).hostname
            except ValueError:
                continue
            if host:
                out.append(host)
    return out[:3]


def _clients(ocsf: dict[str, Any], fields: dict[str, Any]) -> list[Entity]:
    """Who used the name: the querying address and host, and the user when logged."""
    out: list[Entity] = []
    for kind, value in (
        ("ip", dig(ocsf, "src_endpoint.ip")),
        ("ip", fields.get("id.orig_h")),
        ("ip", fields.get("source.ip")),
        ("host", dig(ocsf, "src_endpoint.hostname")),
        ("host", dig(ocsf, "device.hostname")),
    ):
        entity = normalize_entity(kind, value) if isinstance(value, str) else None  # type: ignore[arg-type]
        if entity is not None and entity not in out:
            out.append(entity)
    out += [e for e in entities_of(ocsf) if e.kind == "user" and e not in out]
    return out


def _answers(ocsf: dict[str, Any], fields: dict[str, Any]) -> list[Entity]:
    """Public addresses the name resolved to (Zeek ``answers``, OCSF, Sysmon QueryResults)."""
    texts: list[str] = []
    listed = dig(ocsf, "answers")
    if isinstance(listed, list):
        texts += [str(a.get("rdata", "")) for a in listed[:20] if isinstance(a, dict)]
    for key in ("answers", "QueryResults", "dns.answers.data"):
        value = fields.get(key)
        if isinstance(value, list):
            texts += [str(v) for v in value[:20]]
        elif isinstance(value, str):
            texts += _ADDRESS.findall(value[:2048])
    out: list[Entity] = []
    for text in texts:
        text = text.strip().removeprefix("::ffff:")
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue
        if address.is_global:
            entity = normalize_entity("ip", str(address))
            if entity is not None and entity not in out:
                out.append(entity)
    return out


def _finding(seen: _Seen, match: Match) -> Finding:
    prot = match.protected
    org = prot.kind == ORG
    registered = seen.parsed.registered
    entities: list[Entity] = []
    for entity in (
        *(normalize_entity("domain", n) for n in seen.names),
        normalize_entity("domain", registered),
        *seen.clients,
        *seen.answers,
    ):
        if entity is not None and entity not in entities:
            entities.append(entity)
    confidence = CONFIDENCE[match.transformation][0 if org else 1]
    who = prot.party.removeprefix("organisation: ")
    title = (
        f"Lookalike of {'the organisation' if org else prot.party} ({who if org else prot.domain})"
        f" in use: {registered} ({match.transformation}"
        f"{f', distance {match.distance}' if match.transformation == 'typo' else ''})"
    )
    explanation: dict[str, Any] = {
        **match.to_json(),
        "domain": registered,
        "names": list(seen.names),
        "seen_in": list(seen.via),
        "uses": seen.uses,
        "unresolved_lookups": seen.unresolved,
        "clients": [e.key() for e in seen.clients],
        "resolved_to": [e.key() for e in seen.answers],
        "model_version": MODEL_VERSION,
        "confidence_basis": "fixed heuristic per transformation and protected party "
        "(organisation or brand), set before evaluation; not a calibrated probability",
    }
    techniques = [("T1583.001", "resource-development"), ("T1566", "initial-access")]
    return Finding(
        analytic_uid="ml.lookalike",
        analytic_name="Lookalike domain",
        title=title,
        time=seen.first,
        severity_id=SEVERITY_HIGH if org else SEVERITY_MEDIUM,
        confidence=confidence,
        evidences=sorted(seen.evidences, key=lambda e: e.time),
        attacks=[attack_of(t, tactic) for t, tactic in techniques],
        entities=entities,
        analytic_type="heuristic",
        description=f"{registered} imitates {prot.party}: {match.transformation}, {match.detail}",
        explanation=explanation,
        model_version=MODEL_VERSION,
    )


@DETECTORS.register("ml.lookalike")
def build(ctx: DetectorContext) -> LookalikeDetector:
    return LookalikeDetector(options_of(ctx, LookalikeOptions))
