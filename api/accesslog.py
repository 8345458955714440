"""An aiohttp access logger that never writes secrets from URLs (the calendar ?token=).

aiohttp's default access log prints the request line, query string included. Wire this
in with `web.run_app(..., access_log_class=RedactingAccessLogger)`.
"""

from __future__ import annotations

import re

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

SECRET_PARAMS = re.compile(r"(?i)([?&](?:token|access_token|refresh_token)=)[^&\s]*")


def redact(path_qs: str) -> str:
    return SECRET_PARAMS.sub(r"\1***", path_qs)


class RedactingAccessLogger(AbstractAccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %d %.1fms", request.remote, request.method,
                         redact(request.path_qs), response.status, time * 1000)
