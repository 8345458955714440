"""Mail in clear text: the e-mail fallback carries appointment details, so outside the
embedded default it goes over STARTTLS (or implicit TLS) with a login, and never falls back
to plain text when the server does not offer encryption."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from notify.email import Mailer, MailError
from tests.rasa.server import free_port

USER, PASSWORD = "klinik", "smtp-password-0123456789"


def _certificate(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Box:
    messages: list[Any] = field(default_factory=list)
    tls_seen: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.content)
        self.tls_seen.append(session.ssl is not None)
        return "250 OK"


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login.decode() == USER \
        and data.password.decode() == PASSWORD
    return AuthResult(success=ok)


@dataclass
class TlsServer:
    port: int
    box: Box
    client_context: ssl.SSLContext


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[TlsServer]:
    cert, key = _certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))
    box, port = Box(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, tls_context=server_context,
                            require_starttls=True, authenticator=_auth,
                            auth_require_tls=True, auth_required=True)
    controller.start()
    yield TlsServer(port, box, client_context)
    controller.stop()


async def test_mail_over_starttls_with_login(tls_server: TlsServer) -> None:
    mailer = Mailer("127.0.0.1", tls_server.port, "noreply@klinik.test", tls="starttls",
                    username=USER, password=PASSWORD, tls_context=tls_server.client_context,
                    timeout_s=5)
    await mailer.send("pasien@test.id", "Booking dikonfirmasi", "Kode: ABC-DEF")
    assert tls_server.box.tls_seen == [True]


async def test_mail_in_clear_text_is_refused(tls_server: TlsServer) -> None:
    plain = Mailer("127.0.0.1", tls_server.port, "noreply@klinik.test", tls="off",
                   username=USER, password=PASSWORD, timeout_s=5)
    with pytest.raises(MailError):
        await plain.send("pasien@test.id", "Booking dikonfirmasi", "Kode: ABC-DEF")
    assert tls_server.box.messages == []


async def test_mail_to_an_impostor_server_is_refused(tls_server: TlsServer) -> None:
    # the system CAs do not know the server's certificate: no mail to an impostor
    mailer = Mailer("127.0.0.1", tls_server.port, "noreply@klinik.test", tls="starttls",
                    username=USER, password=PASSWORD, timeout_s=5)
    with pytest.raises(MailError):
        await mailer.send("pasien@test.id", "Booking dikonfirmasi", "Kode: ABC-DEF")
    assert tls_server.box.messages == []
