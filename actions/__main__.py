"""Standalone action server for production: `python -m actions [--host H] [--port 5055]`.

Serves the same executor at /webhook (rasa_sdk's path) with a booking service built from
the environment by app.context.build_core; point Rasa's endpoints.yml action_endpoint at
http://<host>:<port>/webhook with `headers: {Authorization: "Bearer ${ACTIONS_TOKEN}"}`.
It needs MONGODB_URL and REDIS_URL (the embedded in-process store would not be shared with
anything), so it runs in production mode and refuses to start without ACTIONS_TOKEN.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from actions import endpoint
from app.context import build_core
from app.keys import SERVICE, SETTINGS
from app.main import configure_logging
from app.settings import Settings, load_settings

log = logging.getLogger(__name__)


async def _core(app: web.Application) -> AsyncIterator[None]:
    store, coordinator, service = build_core(app[SETTINGS])
    await store.ensure_indexes()
    app[SERVICE] = service
    yield
    await coordinator.redis.aclose()
    store.sync.close()


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_action_server(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_core)
    endpoint.mount(app, path="/webhook")
    app.router.add_get("/health", _health)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Rasa custom action server (rasa_sdk executor)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    settings = load_settings()
    configure_logging(settings.log_level)
    log.info("action server on %s:%s", args.host, args.port)
    web.run_app(create_action_server(settings), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
