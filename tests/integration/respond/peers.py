"""Real local peers for the connector tests (and the engine's): an HTTP server and an SMTP
server on 127.0.0.1, each in a thread of the test process, recording what they received.

``HttpPeer`` answers from a script of statuses (``[503, 503]`` then the default), checks
each request's HMAC signature with ``webhook.verify_signature`` and counts executions per
``Idempotency-Key`` (a repeated key is answered 200 but not executed again, as a
deduplicating receiver does). ``SmtpPeer`` is aiosmtpd; it refuses recipients at domains
listed in ``refuse`` and records every RCPT and every delivered message.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from garrison.respond.connectors.webhook import IDEMPOTENCY, verify_signature


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    signed: bool
    status: int
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpPeer:
    secret: str = "peer-secret"
    statuses: list[int] = field(default_factory=list)
    default: int = 200
    reply: bytes = b'{"ok": true}'
    requests: list[Request] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    tls: Tls | None = None

    def __post_init__(self) -> None:
        peer = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k: v for k, v in self.headers.items()}
                signed = verify_signature(peer.secret, self.headers, body)
                with lock:
                    status = peer.statuses.pop(0) if peer.statuses else peer.default
                    if not signed:
                        status = 401
                    key = headers.get(IDEMPOTENCY, "")
                    if 200 <= status < 300 and key not in peer.executed:
                        peer.executed.append(key)
                    peer.requests.append(
                        Request(self.path, headers, body, signed, status, time.monotonic())
                    )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(peer.reply)))
                self.end_headers()
                self.wfile.write(peer.reply)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.server.socket = self.tls.server_context().wrap_socket(
                self.server.socket, server_side=True
            )
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}/hook/token-in-path"

    def __enter__(self) -> HttpPeer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mail:
    sender: str
    rcpts: list[str]
    data: bytes


class SmtpPeer:
    """aiosmtpd on a free loopback port; ``rcpts`` every RCPT TO it was given (accepted or
    not), ``messages`` every message delivered."""

    def __init__(
        self,
        refuse: Iterable[str] = (),
        tls: Tls | None = None,
        login: tuple[str, str] | None = None,
        implicit: bool = False,
    ) -> None:
        from aiosmtpd.controller import Controller

        self.refuse = set(refuse)
        self.rcpts: list[str] = []
        self.messages: list[Mail] = []
        self.logins: list[tuple[str, bool]] = []
        self.port = free_port()
        extra: dict[str, Any] = {}
        if tls is not None and implicit:
            extra |= {"ssl_context": tls.server_context()}
        elif tls is not None:
            extra |= {"tls_context": tls.server_context(), "require_starttls": True}
        if login is not None:
            extra |= {"auth_required": True, "auth_callback": self._auth}
        self.login = login
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **extra)

    def _auth(self, mechanism: str, user: bytes, password: bytes) -> bool:
        ok = (user.decode(), password.decode()) == self.login
        self.logins.append((user.decode(), ok))
        return ok

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpts.append(address)
        if address.rpartition("@")[2] in self.refuse:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"

    def __enter__(self) -> SmtpPeer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@dataclass
class Tls:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost, as PEM files."""

    ca_file: str
    cert_file: str
    key_file: str

    def server_context(self) -> Any:
        import ssl

        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


def make_tls(folder: Any) -> Tls:
    import datetime
    import ipaddress
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = Path(folder)
    now = datetime.datetime.now(datetime.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(name("garrison test CA")).issuer_name(
            name("garrison test CA")).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                       key_agreement=False, encipher_only=False, decipher_only=False),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    cert = (
        x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(san, critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "cert.pem").write_bytes(cert.public_bytes(pem))
    (folder / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Tls(str(folder / "ca.pem"), str(folder / "cert.pem"), str(folder / "key.pem"))
