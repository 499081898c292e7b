"""Webhook connector: a signed JSON POST, the receiver able to prove it came from Garrison.

``[respond.connectors.NAME]`` with ``type = "webhook"``::

    url = "https://hooks.example.org/garrison"
    secret_env = "GARRISON_ONCALL_SECRET"   # the variable's name; the value is never written
    timeout = 10                            # seconds per attempt
    allow_http = false                      # true allows http:// to a loopback address only
    ca_file = "/etc/garrison/internal-ca.pem"  # optional: trust this CA, not the system's

The request
-----------
``POST`` of a JSON object (keys sorted, ASCII only): ``action``, ``params``, ``key``,
``playbook``, ``step``, ``undo`` and ``subject`` (its ``uid``, ``kind`` and ``title``:
attacker-influenced text, JSON-escaped, never interpreted). Headers::

    Content-Type: application/json
    Idempotency-Key: <the delivery's key; the same on every retry and after a restart>
    X-Garrison-Timestamp: <Unix seconds when the request was signed>
    X-Garrison-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>

To verify (``verify_signature`` does exactly this): take the raw body bytes as received,
compute ``HMAC-SHA256(secret, f"{timestamp}.".encode() + body)``, compare the hex digest
with the ``v1=`` value in constant time, and refuse a timestamp more than ``tolerance``
seconds away from your clock (a replayed request); deduplicate on ``Idempotency-Key``.

Outcomes: 2xx is success; a 5xx, 408, 429, a timeout or a refused connection is a
``ConnectorError(retryable=True)``; any other status (4xx, and 3xx: redirects are not
followed, a signed body is never re-sent elsewhere) is not retryable. Only the URL's origin
(scheme, host, port) ever appears in a receipt or an error: a URL path may carry a token.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

from garrison.core.options import option
from garrison.core.serveconfig import is_loopback
from garrison.core.text import visible
from garrison.respond.connectors.base import ConnectorError, Delivery, Receipt
from garrison.respond.connectors.safe import Secret, tls_file

TIMESTAMP = "X-Garrison-Timestamp"
SIGNATURE = "X-Garrison-Signature"
IDEMPOTENCY = "Idempotency-Key"
#: Statuses worth another try: the peer is overloaded, restarting or timed out.
RETRY_STATUS = frozenset({408, 425, 429})
_READ_MAX = 65536


@dataclass(slots=True)
class WebhookOptions:
    url: str = option(nonempty=True)
    #: Name of the environment variable holding the HMAC secret.
    secret_env: str = option(nonempty=True)
    timeout: float = option(10.0, min=0.1, max=300)
    #: Allow plain http:// (only to a loopback address: a local relay or a test peer).
    allow_http: bool = False
    #: CA certificates (PEM) to trust instead of the system's: an internal CA.
    ca_file: str | None = option(None, convert=tls_file)

    def __post_init__(self) -> None:
        check_url(self.url, allow_http=self.allow_http)


def check_url(url: str, *, allow_http: bool = False) -> SplitResult:
    """``url`` split, if it is https (or http to loopback with ``allow_http``) with a host;
    else ``ValueError`` naming only its scheme and host."""
    if not (url.isascii() and url.isprintable()) or " " in url:
        raise ValueError("url must be printable ASCII without spaces (percent-encode the rest)")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"url must be an https:// URL with a host, not {parts.scheme!r}")
    if parts.username or parts.password:
        raise ValueError("url must not carry a user or password; use secret_env")
    if parts.scheme == "http":
        if not allow_http:
            raise ValueError("url is http://; use https, or allow_http = true for loopback")
        if not is_loopback(parts.hostname):
            raise ValueError(f"allow_http covers loopback only, not {parts.hostname!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError("url has an invalid port") from None
    return parts


def origin(parts: SplitResult) -> str:
    """``scheme://host:port`` of a URL: what may be shown (the path may hold a token)."""
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def body_of(delivery: Delivery) -> bytes:
    """The JSON body for ``delivery`` (sorted keys, ASCII: the same bytes for the same
    delivery, so a retry is byte-identical apart from its timestamp header)."""
    subject = {k: delivery.subject.get(k) for k in ("uid", "kind", "title")}
    doc = {
        "action": delivery.action,
        "params": dict(delivery.params),
        "key": delivery.key,
        "playbook": delivery.playbook,
        "step": delivery.step,
        "undo": delivery.undo,
        "subject": subject,
    }
    return json.dumps(doc, sort_keys=True, ensure_ascii=True, default=_jsonable).encode()


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | frozenset | set):
        return list(value)
    return str(value)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signed_headers(secret: str, key: str, body: bytes, now: float | None = None) -> dict[str, str]:
    stamp = str(int(time.time() if now is None else now))
    return {
        "Content-Type": "application/json",
        IDEMPOTENCY: key,
        TIMESTAMP: stamp,
        SIGNATURE: signature(secret, stamp, body),
    }


def verify_signature(
    secret: str,
    headers: Mapping[str, str] | Any,
    body: bytes,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """True when ``headers`` carry a valid signature of ``body`` made within ``tolerance``
    seconds of ``now``. ``headers`` is any mapping (or ``http.server`` message) with
    ``items()``; names are compared case-insensitively."""
    found = {str(k).lower(): str(v) for k, v in headers.items()}
    stamp, given = found.get(TIMESTAMP.lower()), found.get(SIGNATURE.lower())
    if not stamp or not given or not stamp.isdigit():
        return False
    clock = time.time() if now is None else now
    if abs(clock - int(stamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, stamp, body), given)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes


@dataclass(slots=True)
class Webhook:
    """The ``webhook`` connector (also the transport of ``ticket-webhook``)."""

    name: str
    options: WebhookOptions = field(repr=False)  # the URL may carry a token
    secret: Secret = field(repr=False)
    kind: str = "webhook"

    def check(self, delivery: Delivery) -> Receipt:
        parts, body, _ = self._request(delivery)
        return Receipt("dry-run", f"would POST {len(body)} signed bytes to {origin(parts)}")

    def send(self, delivery: Delivery) -> Receipt:
        response = self.post(delivery)
        return Receipt(f"HTTP {response.status}", f"delivered to {self.where}")

    @property
    def where(self) -> str:
        return origin(urlsplit(self.options.url))

    def _request(self, delivery: Delivery) -> tuple[SplitResult, bytes, dict[str, str]]:
        try:
            parts = check_url(self.options.url, allow_http=self.options.allow_http)
        except ValueError as exc:
            raise ConnectorError(f"webhook {self.name}: {exc}") from None
        if not (delivery.key.isascii() and delivery.key.isprintable()):
            raise ConnectorError(f"webhook {self.name}: idempotency key is not printable ASCII")
        body = body_of(delivery)
        return parts, body, signed_headers(self.secret.reveal(), delivery.key, body)

    def post(self, delivery: Delivery) -> Response:
        """POST ``delivery``; the response if 2xx, else ``ConnectorError``."""
        parts, body, headers = self._request(delivery)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn = _connection(parts, self.options.timeout, self.options.ca_file)
        try:
            conn.request("POST", path, body=body, headers=headers)
            reply = conn.getresponse()
            status, reason, data = reply.status, reply.reason, reply.read(_READ_MAX)
        except ssl.SSLCertVerificationError as exc:
            raise ConnectorError(f"webhook {self.name}: {self.where}: TLS: {exc.reason}") from None
        except (OSError, http.client.HTTPException) as exc:
            what = visible(type(exc).__name__ if not str(exc) else str(exc), 120)
            raise ConnectorError(
                f"webhook {self.name}: {self.where}: {what}", retryable=True
            ) from None
        finally:
            conn.close()
        if 200 <= status < 300:
            return Response(status, data)
        retry = status >= 500 or status in RETRY_STATUS
        raise ConnectorError(
            f"webhook {self.name}: {self.where} answered {status} {visible(reason, 60)}",
            retryable=retry,
        )


def _connection(
    parts: SplitResult, timeout: float, ca_file: str | None
) -> http.client.HTTPConnection:
    host, port = parts.hostname or "", parts.port
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=ca_file)
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    return http.client.HTTPConnection(host, port, timeout=timeout)


def build(name: str, options: WebhookOptions, secret: Secret) -> Webhook:
    return Webhook(name, options, secret)
