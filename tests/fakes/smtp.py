"""A real SMTP server for tests (aiosmtpd on a free port) that keeps the mail it receives.

The app's mail job talks to it over the network exactly as to a real relay:
STARTTLS with a self-signed certificate and AUTH LOGIN/PLAIN when asked for, refused
recipients on demand. `mail_outbox` also points the test app at it and runs the queued
jobs on a real RQ worker, so a test reads the links that were really sent.
"""

import datetime
import email
import re
import ssl
import threading
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import NamedTuple

import pytest
import redis
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from rq import Worker
from rq.serializers import JSONSerializer

from tests.servers import free_port

LINK_RE = re.compile(r"https?://\S+")


class Received(NamedTuple):
    """One message as the server got it: envelope, parsed message, who logged in, over TLS or not."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None
    tls: bool

    @property
    def body(self) -> str:
        return self.message.get_content()

    @property
    def links(self) -> list[str]:
        return LINK_RE.findall(self.body)


class SMTPServer:
    """aiosmtpd in a thread. `users` turns AUTH on; `tls_dir` offers STARTTLS; `refuse` lists bad RCPTs."""

    def __init__(self, users: dict[str, str] | None = None, tls_dir: Path | None = None):
        self.host, self.port = "127.0.0.1", free_port()
        self.users = users or {}
        self.refuse: set[str] = set()
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        options: dict = {}
        if self.users:
            options.update(authenticator=self._authenticate, auth_require_tls=tls_dir is not None)
        if tls_dir is not None:
            options.update(tls_context=_tls_context(tls_dir), require_starttls=True)
        self.controller = Controller(self, hostname=self.host, port=self.port, **options)

    def start(self) -> "SMTPServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and self.users.get(auth_data.login.decode()) == (
            auth_data.password.decode()
        )
        return AuthResult(success=ok, auth_data=auth_data.login.decode() if ok else None)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        received = Received(
            envelope.mail_from, list(envelope.rcpt_tos), message, session.auth_data, session.ssl is not None
        )
        with self._lock:
            self.messages.append(received)
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, seconds: float = 5.0) -> list[Received]:
        """The messages once at least `count` arrived (asserts they did in time)."""
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.messages) >= count, f"expected {count} mails, got {len(self.messages)}"
        return list(self.messages)


def _tls_context(directory: Path) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


@pytest.fixture
def smtp_server():
    """A plain SMTP server (no TLS, no AUTH) on 127.0.0.1 and a free port."""
    server = SMTPServer().start()
    yield server
    server.stop()


class Outbox:
    """The mail the test app sends: jobs run on a real RQ worker, mail lands on `smtp_server`."""

    def __init__(self, server: SMTPServer, redis_url: str):
        self.server = server
        self.connection = redis.Redis.from_url(redis_url)

    def deliver(self) -> list[Received]:
        """Run every queued job in burst mode; returns all mail received so far."""
        Worker(["default"], connection=self.connection, serializer=JSONSerializer).work(burst=True)
        return list(self.server.messages)

    def last_to(self, address: str) -> Received:
        """Deliver, then the newest mail to `address` (asserts there is one)."""
        mails = [m for m in self.deliver() if address in m.rcpt_tos]
        assert mails, f"no mail to {address}"
        return mails[-1]


@pytest.fixture
def mail_outbox(app, smtp_server, redis_server):
    """Point the test app's mail at `smtp_server` (plain SMTP) and deliver on demand."""
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port, MAIL_USE_TLS=False)
    return Outbox(smtp_server, redis_server.url)
