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
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook/token-in-path"

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

    def __init__(self, refuse: Iterable[str] = ()) -> None:
        from aiosmtpd.controller import Controller

        self.refuse = set(refuse)
        self.rcpts: list[str] = []
        self.messages: list[Mail] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

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
