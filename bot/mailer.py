"""Email fallback over SMTP (aiosmtplib)."""

from __future__ import annotations

import logging
from email.message import EmailMessage

import aiosmtplib

log = logging.getLogger(__name__)


class MailError(Exception):
    """The email could not be handed to the SMTP server (worth retrying)."""


class MailRejected(MailError):
    """The server refused the recipient or the message (not worth retrying)."""


class Mailer:
    def __init__(self, host: str, port: int, sender: str, *, timeout_s: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout_s = timeout_s

    async def send(self, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content(body)
        try:
            await aiosmtplib.send(msg, hostname=self.host, port=self.port,
                                  timeout=self.timeout_s, start_tls=False, use_tls=False)
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
