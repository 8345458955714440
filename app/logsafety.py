"""Keep secrets from URLs out of the logs.

aiohttp's access log prints the request line, query string included: the webhook's
?token= and the calendar feed's ?token= would land in it. `RedactingAccessLogger`
(passed to web.run_app) and `install_filters` (for loggers we do not construct, e.g.
under test servers) mask them; a refused webhook is logged once by the gateway itself.
"""

from __future__ import annotations

import logging
import re

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

SECRET_PARAMS = re.compile(r"(?i)([?&](?:token|access_token|refresh_token)=)[^&\s\"']*")
_FILTERED_LOGGERS = ("aiohttp.access", "aiohttp.server", "aiohttp.web", "aiohttp.client")


def redact(text: str) -> str:
    return SECRET_PARAMS.sub(r"\1***", text)


class RedactingAccessLogger(AbstractAccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %d %.1fms", request.remote, request.method,
                         redact(request.path_qs), response.status, time * 1000)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.msg if isinstance(record.msg, str) else ""
        if record.name == "aiohttp.access" and "/whatsapp/webhook" in msg and '" 401 ' in msg:
            return False  # a refused webhook is logged once, by the gateway, without the token
        if msg and "token=" in msg:
            record.msg = redact(msg)
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_filters() -> None:
    """Idempotent: one filter on each of aiohttp's loggers."""
    for name in _FILTERED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
