"""SMTP connector: a notification e-mail through the site's mail server (stdlib smtplib).

``[respond.connectors.NAME]`` with ``type = "smtp"``::

    host = "mail.example.org"
    port = 587
    security = "starttls"          # "starttls", "ssl" (implicit TLS) or "none"
    sender = "garrison@example.org"
    username = "garrison"          # optional; a login needs starttls or ssl
    password_env = "GARRISON_SMTP_PASSWORD"
    ca_file = "/etc/garrison/internal-ca.pem"   # optional: trust this CA, not the system's

``check`` (dry run) connects, says EHLO, starts TLS and logs in as configured, gives
``MAIL FROM`` and one ``RCPT TO`` per recipient, then ``RSET``: every recipient is verified
by the server and nothing is sent. ``send`` sends one message whose ``Message-ID`` is derived
from the idempotency key, so a retry after a crash is the same message to any system that
deduplicates on it.

Header injection: subject and title are attacker-influenced. Every header value is passed
through ``safe.header`` (control characters, CR and LF above all, become visible escapes)
and addresses must match ``safe.email``; the body is plain text with control characters
escaped too.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal

from garrison.core.options import option
from garrison.core.text import visible
from garrison.respond.connectors import safe
from garrison.respond.connectors.base import ConnectorError, Delivery, Receipt
from garrison.respond.connectors.safe import Secret, tls_file


@dataclass(slots=True)
class SmtpOptions:
    host: str = option(nonempty=True)
    sender: str = option(nonempty=True, convert=safe.email)
    port: int = option(587, min=1, max=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    #: Name of the environment variable holding the password (with ``username``).
    password_env: str | None = None
    timeout: float = option(10.0, min=0.1, max=300)
    subject_prefix: str = "[garrison]"
    #: CA certificates (PEM) to trust instead of the system's: an internal CA.
    ca_file: str | None = option(None, convert=tls_file)

    def __post_init__(self) -> None:
        if (self.username is None) != (self.password_env is None):
            raise ValueError("username and password_env go together")
        if self.username is not None and self.security == "none":
            raise ValueError("a password is never sent in clear: security must be starttls or ssl")


def message_id(key: str, sender: str) -> str:
    """``<sha256(key)[:32]@sender-domain>``: stable for a key, safe whatever the key holds."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"<{digest}@{sender.rpartition('@')[2]}>"


def compose(delivery: Delivery, sender: str, prefix: str = "[garrison]") -> EmailMessage:
    """The message for ``delivery``; raises ``ValueError`` on a bad recipient."""
    params = delivery.params
    recipients = safe.emails(params.get("to"))
    title = delivery.subject.get("title") or delivery.action
    subject = params.get("subject") or f"{delivery.playbook}: {title}"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = safe.header(f"{prefix} {subject}".strip())
    msg["Message-ID"] = message_id(delivery.key, sender)
    msg["Date"] = formatdate(localtime=False)
    msg["X-Garrison-Key"] = safe.header(delivery.key)
    lines = [
        safe.text(params.get("message") or subject),
        "",
        f"playbook: {visible(delivery.playbook)}  step: {visible(delivery.step)}",
        f"subject: {visible(delivery.subject.get('kind', ''))} "
        f"{visible(delivery.subject.get('uid', ''))}",
        f"title: {visible(title)}",
        f"idempotency key: {visible(delivery.key)}",
    ]
    msg.set_content("\n".join(lines) + "\n")
    return msg


@dataclass(slots=True)
class Smtp:
    name: str
    options: SmtpOptions
    password: Secret | None = field(default=None, repr=False)
    kind: str = "smtp"

    def check(self, delivery: Delivery) -> Receipt:
        msg = self._compose(delivery)
        recipients = safe.emails(delivery.params.get("to"))
        with self._session() as smtp:
            self._reply(smtp.mail(self.options.sender), "MAIL FROM")
            for rcpt in recipients:
                self._reply(smtp.rcpt(rcpt), f"RCPT TO {rcpt}")
            smtp.rset()
        return Receipt(msg["Message-ID"], f"{len(recipients)} recipient(s) accepted; not sent")

    def send(self, delivery: Delivery) -> Receipt:
        msg = self._compose(delivery)
        with self._session() as smtp:
            try:
                refused = smtp.send_message(msg)
            except smtplib.SMTPRecipientsRefused as exc:
                raise ConnectorError(
                    f"smtp {self.name}: every recipient refused ({len(exc.recipients)})"
                ) from None
        detail = f"sent via {self.options.host}"
        if refused:
            detail += f"; refused: {', '.join(sorted(refused))}"
        return Receipt(msg["Message-ID"], detail)

    def _compose(self, delivery: Delivery) -> EmailMessage:
        try:
            return compose(delivery, self.options.sender, self.options.subject_prefix)
        except ValueError as exc:
            raise ConnectorError(f"smtp {self.name}: {exc}") from None

    def _reply(self, reply: tuple[int, bytes], what: str) -> None:
        code, text = reply
        if code >= 400:
            raise ConnectorError(
                f"smtp {self.name}: {what}: {code} {visible(text.decode('utf-8', 'replace'), 80)}",
                retryable=code < 500,
            )

    @contextmanager
    def _session(self) -> Iterator[smtplib.SMTP]:
        """An SMTP conversation up to a logged-in EHLO; every failure becomes a
        ``ConnectorError`` (retryable unless a permanent 5xx or a refused login)."""
        smtp: smtplib.SMTP | None = None
        try:
            smtp = self._open()
            yield smtp
        except (smtplib.SMTPException, OSError) as exc:
            raise _error(self.name, self.options.host, exc) from None
        finally:
            if smtp is not None:
                _quit(smtp)

    def _open(self) -> smtplib.SMTP:
        opts = self.options
        if opts.security == "ssl":
            ctx = ssl.create_default_context(cafile=opts.ca_file)
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                opts.host, opts.port, timeout=opts.timeout, context=ctx
            )
        else:
            smtp = smtplib.SMTP(opts.host, opts.port, timeout=opts.timeout)
        try:
            smtp.ehlo()
            if opts.security == "starttls":
                smtp.starttls(context=ssl.create_default_context(cafile=opts.ca_file))
                smtp.ehlo()
            if opts.username and self.password is not None:
                smtp.login(opts.username, self.password.reveal())
        except BaseException:
            _quit(smtp)
            raise
        return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _error(name: str, host: str, exc: smtplib.SMTPException | OSError) -> ConnectorError:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return ConnectorError(f"smtp {name}: {host}: authentication failed ({exc.smtp_code})")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ConnectorError(f"smtp {name}: {host}: TLS: {visible(exc.reason, 80)}")
    code = getattr(exc, "smtp_code", None)
    # a 5xx, or a server without STARTTLS / AUTH: the same call can never succeed
    permanent = isinstance(code, int) and code >= 500
    permanent |= isinstance(exc, smtplib.SMTPNotSupportedError)
    text = visible(str(exc) or type(exc).__name__, 120)
    return ConnectorError(f"smtp {name}: {host}: {text}", retryable=not permanent)


def build(name: str, options: SmtpOptions, password: Secret | None) -> Smtp:
    return Smtp(name, options, password)
