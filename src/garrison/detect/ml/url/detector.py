"""Detector ``ml.url``: phishing-looking URLs requested in HTTP / proxy telemetry.

``observe`` reads the URL of every HTTP event (OCSF ``http_request.url.url_string``, else
``hostname`` + ``path`` + ``query_string``; Zeek ``http.log`` ``host`` + ``uri``; flat
``url`` / ``url.full`` / ``url.original`` fields), scores each distinct normalized URL
once per run in vectorised batches, and keeps, per URL judged malicious, its first
events and the clients that requested it. ``finish`` reports one finding per URL, ranked
by score: the model's calibrated probability as confidence, its exact explanation
(log-odds terms, heaviest features and n-grams), T1566.002 (spearphishing link) and
T1204.001 (user execution: malicious link).

Registered domains in the ``allowlist`` option (a list, or a file with one per line) are
not scored; no list is shipped. Internal hosts (private, loopback and link-local
addresses; names without a public suffix) are not scored either: the model never saw a
legitimate one. ``threshold`` overrides the model card's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garrison.core.attack import attack_of
from garrison.core.entities import Entity, normalize_entity
from garrison.core.events import Event
from garrison.core.findings import SEVERITY_HIGH, SEVERITY_MEDIUM, Evidence, Finding
from garrison.core.options import names_option, option
from garrison.core.paths import dig
from garrison.detect.base import DETECTORS, Detector, DetectorContext
from garrison.detect.ml.url.model import UrlModel, load_model
from garrison.detect.ml.url.parse import ParsedUrl, parse_url
from garrison.detect.options import DETECTOR_OPTIONS, options_of

ATTACKS = (("T1566.002", "initial-access"), ("T1204.001", "execution"))
_URL_PATHS = ("http_request.url.url_string", "url.url_string")
_URL_FIELDS = ("url", "url.full", "url.original", "request_url")
_CLIENT_PATHS = ("src_endpoint.ip", "client.ip")
_CLIENT_FIELDS = ("id.orig_h", "src_ip", "client_ip", "source.ip")


@DETECTOR_OPTIONS.register("ml.url")
@dataclass(slots=True, frozen=True)
class UrlOptions:
    """Detector options (``[detectors."ml.url"]`` in garrison.toml)."""

    model: str = ""
    #: Override the model's threshold (probability); 0 keeps the model card's.
    threshold: float = option(0.0, min=0, max=1)
    max_findings: int = option(200, min=0)
    max_evidences_per_url: int = option(5, min=0)
    #: Domains never reported: an array, or a file with one per line.
    allowlist: tuple[str, ...] = names_option()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def url_of(ocsf: Any, fields: Any) -> str:
    """The requested URL an event names, or ``""``."""
    for path in _URL_PATHS:
        text = _text(dig(ocsf, path))
        if text:
            return text
    host = _text(dig(ocsf, "http_request.url.hostname"))
    if host:
        path_text = _text(dig(ocsf, "http_request.url.path"))
        query = _text(dig(ocsf, "http_request.url.query_string"))
        return host + path_text + (f"?{query}" if query else "")
    if isinstance(fields, dict):
        for name in _URL_FIELDS:
            text = _text(fields.get(name))
            if text:
                return text
        host, uri = _text(fields.get("host")), _text(fields.get("uri"))
        if host and uri:
            return host + uri if uri.startswith("/") else uri
    return ""


def _internal(p: ParsedUrl) -> bool:
    """Hosts no phishing link points at from outside: private, loopback and link-local
    addresses, and names without a public suffix (``intranet``, ``wiki.corp.local``). The
    training data has no such URLs among the legitimate ones, so the model's opinion of
    them means nothing, and proxy logs are full of them."""
    if p.ip:
        try:
            addr = ipaddress.ip_address(p.host.split("%", 1)[0])
        except ValueError:
            return False  # numeric forms (3232235777) are a trick, not an internal service
        return addr.is_private or addr.is_loopback or addr.is_link_local
    return not p.suffix


def _client(ocsf: Any, fields: Any) -> Entity | None:
    for value in [dig(ocsf, p) for p in _CLIENT_PATHS] + [
        fields.get(f) if isinstance(fields, dict) else None for f in _CLIENT_FIELDS
    ]:
        if isinstance(value, str) and value:
            entity = normalize_entity("ip", value)
            if entity is not None:
                return entity
    return None


@dataclass(slots=True)
class _Seen:
    parsed: ParsedUrl
    score: float
    explanation: dict[str, Any]
    count: int = 0
    evidences: list[Evidence] = field(default_factory=list)
    clients: dict[Entity, None] = field(default_factory=dict)


class UrlDetector(Detector):
    id = "ml.url"
    name = "Phishing URLs (ML)"

    def __init__(self, model: UrlModel, options: UrlOptions | None = None) -> None:
        self.model = model
        self.options = options or UrlOptions()
        self.threshold = self.options.threshold or model.threshold
        self.allow = frozenset(self.options.allowlist)
        self.scores: dict[str, float] = {}
        self.flagged: dict[str, _Seen] = {}
        self.counts = {
            "urls_seen": 0,
            "scored": 0,
            "malicious_urls": 0,
            "skipped_invalid": 0,
            "skipped_allowlist": 0,
            "skipped_internal": 0,
        }

    def observe(self, events: Sequence[Event]) -> list[Finding]:
        rows: list[tuple[Event, ParsedUrl]] = []
        fresh: dict[str, ParsedUrl] = {}
        for event in events:
            text = url_of(event.ocsf, event.fields)
            if not text:
                continue
            self.counts["urls_seen"] += 1
            parsed = parse_url(text)
            if not parsed.ok:
                self.counts["skipped_invalid"] += 1
                continue
            if parsed.site in self.allow:
                self.counts["skipped_allowlist"] += 1
                continue
            if _internal(parsed):
                self.counts["skipped_internal"] += 1
                continue
            rows.append((event, parsed))
            if parsed.key not in self.scores:
                fresh.setdefault(parsed.key, parsed)
        self._score(list(fresh.values()))
        for event, parsed in rows:
            seen = self.flagged.get(parsed.key)
            if seen is not None:
                self._record(seen, event, parsed)
        return []

    def _score(self, fresh: list[ParsedUrl]) -> None:
        if not fresh:
            return
        probs, terms = self.model.score(fresh)
        self.counts["scored"] += len(fresh)
        hits = [i for i, p in enumerate(probs) if p >= self.threshold]
        notes = self.model.explain([fresh[i] for i in hits], terms.take(hits))
        for i, parsed in enumerate(fresh):
            self.scores[parsed.key] = float(probs[i])
        for i, note in zip(hits, notes, strict=True):
            self.flagged[fresh[i].key] = _Seen(fresh[i], float(probs[i]), note)
        self.counts["malicious_urls"] += len(hits)

    def _record(self, seen: _Seen, event: Event, parsed: ParsedUrl) -> None:
        seen.count += 1
        client = _client(event.ocsf, event.fields)
        if client is not None:
            seen.clients.setdefault(client, None)
        if len(seen.evidences) < self.options.max_evidences_per_url:
            summary = [("url", parsed.text[:512])]
            if client is not None:
                summary.append(("client", client.value))
            seen.evidences.append(
                Evidence(event.source_path, event.record_id, event.uid, event.time, tuple(summary))
            )

    def finish(self) -> list[Finding]:
        ranked = sorted((s for s in self.flagged.values() if s.evidences), key=lambda s: -s.score)
        return [self._finding(s) for s in ranked[: self.options.max_findings]]

    def _finding(self, seen: _Seen) -> Finding:
        p = seen.parsed
        entities: list[Entity] = list(seen.clients)[:20]
        if p.site:
            domain = normalize_entity("domain", p.site) if not p.ip else None
            entity = domain or normalize_entity("ip", p.host)
            if entity is not None:
                entities.append(entity)
        explanation = {
            "url": p.text[:2048],
            "score": round(seen.score, 4),
            "threshold": round(self.threshold, 4),
            "threshold_note": "model threshold (1 % FPR on held-out training sites)"
            if not self.options.threshold
            else "threshold set in the detector options",
            "requests": seen.count,
            "clients": len(seen.clients),
            "registered_domain": p.registered or None,
            **seen.explanation,
        }
        return Finding(
            analytic_uid=self.id,
            analytic_name=self.name,
            title=f"Phishing-like URL requested: {p.text[:160]}",
            time=min(ev.time for ev in seen.evidences),
            severity_id=SEVERITY_HIGH if seen.score >= 0.98 else SEVERITY_MEDIUM,
            confidence=round(100 * seen.score),
            evidences=seen.evidences,
            attacks=[attack_of(t, tactic) for t, tactic in ATTACKS],
            entities=entities,
            analytic_type="ml",
            description="A URL that the phishing-URL model scores as phishing (calibrated "
            f"probability >= {self.threshold:.3f}), from its host and path alone.",
            explanation=explanation,
            model_version=self.model.version,
        )

    def stats(self) -> dict[str, Any]:
        return {
            **self.counts,
            "findings_dropped": max(0, len(self.flagged) - self.options.max_findings),
            "threshold": round(self.threshold, 4),
            "model_version": self.model.version,
        }


@DETECTORS.register("ml.url")
def _factory(ctx: DetectorContext) -> Detector | None:
    options = options_of(ctx, UrlOptions)
    model = load_model(Path(options.model) if options.model else None, ctx.home)
    return UrlDetector(model, options)
