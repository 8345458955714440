"""Email fallback over SMTP (aiosmtplib): STARTTLS or implicit TLS and a login in
production (SMTP_TLS, SMTP_USERNAME, SMTP_PASSWORD), plain only on the embedded default."""

from __future__ import annotations

import logging
import ssl
from email.message import EmailMessage
from typing import Any

import aiosmtplib

log = logging.getLogger(__name__)


class MailError(Exception):
    """The email could not be handed to the SMTP server (worth retrying)."""


class MailRejected(MailError):
    """The server refused the recipient or the message (not worth retrying)."""


class Mailer:
    def __init__(self, host: str, port: int, sender: str, *, timeout_s: float = 10.0,
                 tls: str = "off", username: str | None = None,
                 password: str | None = None, tls_context: ssl.SSLContext | None = None
                 ) -> None:
        if tls not in ("off", "starttls", "tls"):
            raise ValueError(f"unknown SMTP TLS mode {tls!r}")
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout_s = timeout_s
        self.tls = tls
        self.username = username
        self.password = password
        self.tls_context = tls_context  # None: the system's CAs, certificates verified

    @classmethod
    def from_settings(cls, settings: Any) -> Mailer:
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_from,
                   tls=settings.smtp_mode, username=settings.smtp_username,
                   password=settings.smtp_password.get_secret_value()
                   if settings.smtp_password else None)

    async def send(self, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content(body)
        try:
            # STARTTLS is required when asked for: never a silent downgrade to plain text.
            await aiosmtplib.send(msg, hostname=self.host, port=self.port,
                                  timeout=self.timeout_s, start_tls=self.tls == "starttls",
                                  use_tls=self.tls == "tls", username=self.username,
                                  password=self.password, tls_context=self.tls_context)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if codes and all(400 <= c < 500 for c in codes):  # greylisting, mailbox busy
                raise MailError(f"recipient deferred: SMTP {codes[0]}") from exc
            raise MailRejected("recipient refused") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise MailRejected(f"SMTP {exc.code}") from exc
            raise MailError(f"SMTP {exc.code}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailError(type(exc).__name__) from exc
