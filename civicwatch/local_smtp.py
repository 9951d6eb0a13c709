"""A local SMTP server for the demo and the tests: STARTTLS with a self-signed certificate, AUTH, a
mailbox in memory (aiosmtpd, in the dev extra). It speaks to the forwarder exactly as a city relay
would, so what the demo shows and the tests assert is the real SMTP exchange.

Recipients at ``refused.invalid`` are refused with 550, and at ``busy.invalid`` with 451, so the
tests can drive the forwarder's dead-letter and retry paths through the protocol itself.
"""

from __future__ import annotations

import email
import email.policy
import logging
import secrets
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

logging.getLogger("mail.log").setLevel(logging.ERROR)
"""aiosmtpd 1.4 logs a warning about its own deprecated attribute at every AUTH (through its
``mail.log`` logger, not ``warnings``); nothing of ours to change, and it cluttered the demo."""

REFUSED_DOMAIN = "refused.invalid"
BUSY_DOMAIN = "busy.invalid"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        return part.get_content() if part is not None else ""


@dataclass
class Mailbox:
    """aiosmtpd handler: keeps every accepted message."""

    messages: list[Received] = field(default_factory=list)
    tls_sessions: int = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if address.endswith("@" + REFUSED_DOMAIN):
            return "550 5.1.1 mailbox unavailable"
        if address.endswith("@" + BUSY_DOMAIN):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.tls_sessions += session.ssl is not None
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def self_signed(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A one-day certificate for ``host`` (openssl), and its key."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "smtp.crt", directory / "smtp.key"
    command = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=civicwatch-local-smtp".split()
    command += ["-keyout", str(key), "-out", str(cert), "-addext", f"subjectAltName=IP:{host},DNS:localhost"]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
    )
    return cert, key


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class LocalSmtp:
    """``start()`` serves on 127.0.0.1 in a thread until ``stop()``; ``mailbox`` holds what arrived."""

    def __init__(self, directory: Path, username: str = "civicwatch-forward", password: str | None = None) -> None:
        self.directory = directory
        self.host = "127.0.0.1"
        self.port = 0
        self.username = username
        self.password = password or secrets.token_urlsafe(16)
        self.mailbox = Mailbox()
        self.cafile = directory / "smtp.crt"
        self._controller: Any = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.username.encode()
            and secrets.compare_digest(auth_data.password, self.password.encode())
        )
        return AuthResult(success=ok, handled=False)

    def start(self) -> LocalSmtp:
        from aiosmtpd.controller import Controller

        cert, key = self_signed(self.directory, self.host)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.port = free_port(self.host)
        self._controller = Controller(
            self.mailbox,
            hostname=self.host,
            port=self.port,
            tls_context=context,
            require_starttls=True,
            authenticator=self._authenticate,
            auth_require_tls=True,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def client_context(self) -> ssl.SSLContext:
        """What a client must trust to talk to this server."""
        return ssl.create_default_context(cafile=str(self.cafile))
