"""Middlewares: request metrics (outermost) and the one error-to-JSON translation."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from app.http.errors import internal_error, response_for, router_error
from app.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def route_label(request: web.Request) -> str:
    """The route template (not the concrete path), so metrics stay low-cardinality."""
    resource = request.match_info.route.resource if request.match_info.route else None
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response: web.StreamResponse = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = route_label(request)
        HTTP_REQUESTS.labels(request.method, route, str(status)).inc()
        HTTP_LATENCY.labels(request.method, route).observe(time.perf_counter() - started)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPException as exc:
        if isinstance(exc, web.HTTPRequestEntityTooLarge):
            known = response_for(exc)
            assert known is not None
            return known
        if exc.status >= 400 and request.match_info.http_exception is not None:
            return router_error(exc)  # the router's own 404 / 405
        raise  # a handler's deliberate HTTP response (redirects, other roles' answers)
    except Exception as exc:  # noqa: BLE001 - the one catch-all, logged with its traceback
        known = response_for(exc)
        if known is not None:
            if known.status >= 500:
                log.warning("%s %s -> %d (%s)", request.method, route_label(request),
                            known.status, type(exc).__name__)
            return known
        log.error("unhandled error on %s %s", request.method, route_label(request),
                  exc_info=exc)
        return internal_error()
