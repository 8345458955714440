"""The internal listener: a port of its own for what must never sit behind the public load
balancer — Rasa's custom-actions webhook and Prometheus `/metrics` (plus `/health` for
probes). It binds ACTIONS_HOST:ACTIONS_PORT (127.0.0.1:5056 by default), so routing a
public request to it is impossible by construction, not by a proxy rule.

Roles add their routes to `internal_app(app)` during set-up; the listener starts after the
core (store, service) is up, and the handlers find what they need on the internal app,
which shares the main app's settings, store and service.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.keys import COORDINATOR, SERVICE, SETTINGS, STORE
from app.logsafety import RedactingAccessLogger
from app.metrics import REGISTRY

log = logging.getLogger(__name__)

INTERNAL_APP = web.AppKey("internal_app", web.Application)
INTERNAL_RUNNER = web.AppKey("internal_runner", web.AppRunner)
MAX_BODY = 4 * 1024 * 1024  # Rasa sends the whole tracker and domain with every action call


def bearer_ok(request: web.Request, expected: str) -> bool:
    """Constant-time check of `Authorization: Bearer <expected>` (nothing else is read)."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              expected.encode())


def unauthorized() -> web.Response:
    return web.json_response({"error": "unauthorized"}, status=401,
                             headers={"WWW-Authenticate": "Bearer"})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    token = request.app[SETTINGS].metrics_token
    if token is not None and not bearer_ok(request, token.get_secret_value()):
        return unauthorized()
    return web.Response(body=generate_latest(REGISTRY),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


def new_internal_app() -> web.Application:
    internal = web.Application(client_max_size=MAX_BODY)
    internal.router.add_get("/health", health)
    internal.router.add_get("/metrics", metrics)
    return internal


def internal_app(app: web.Application) -> web.Application:
    """Where a role adds internal routes (during set-up, before the app starts)."""
    return app[INTERNAL_APP]


def bound_port(app: web.Application) -> int:
    """The port the internal listener got (ACTIONS_PORT=0 picks a free one)."""
    runner = app[INTERNAL_RUNNER]
    for site in runner.sites:
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            return int(server.sockets[0].getsockname()[1])
    raise RuntimeError("the internal listener is not running")


async def internal_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the internal listener once the core is up; stop it with the app."""
    settings = app[SETTINGS]
    internal = app[INTERNAL_APP]
    internal[SETTINGS] = settings
    internal[STORE] = app[STORE]
    internal[SERVICE] = app[SERVICE]
    internal[COORDINATOR] = app[COORDINATOR]
    runner = web.AppRunner(internal, access_log_class=RedactingAccessLogger)
    await runner.setup()
    try:
        # several workers of one host share the internal port like the public one
        site = web.TCPSite(runner, settings.actions_host, settings.actions_port,
                           reuse_port=settings.app_workers > 1 or None)
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise RuntimeError(f"cannot open the internal listener on {settings.actions_host}:"
                           f"{settings.actions_port} ({exc.strerror}): set ACTIONS_PORT to a "
                           "free port") from exc
    app[INTERNAL_RUNNER] = runner
    log.info("internal listener (actions, metrics) on %s:%s", settings.actions_host,
             bound_port(app))
    try:
        yield
    finally:
        await runner.cleanup()
