"""Keep the webhook secret out of logs: aiohttp's access log prints the request line,
query string included, so the ?token= value is masked there."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"([?&]token=)[^&\s\"']*")


class RedactWebhookToken(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.msg if isinstance(record.msg, str) else ""
        if record.name == "aiohttp.access" and "/whatsapp/webhook" in msg and '" 401 ' in msg:
            return False  # a refused webhook is logged once, by the gateway, without the token
        if isinstance(record.msg, str) and "token=" in record.msg:
            record.msg = _TOKEN.sub(r"\1***", record.msg)
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(_TOKEN.sub(r"\1***", a) if isinstance(a, str) else a
                                for a in record.args)
        return True


def install() -> None:
    """Idempotent: one filter on aiohttp's access and client loggers."""
    for name in ("aiohttp.access", "aiohttp.server", "aiohttp.web", "aiohttp.client"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactWebhookToken) for f in logger.filters):
            logger.addFilter(RedactWebhookToken())
