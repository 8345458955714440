"""Role setup (api role): admin analytics endpoint, dashboard page, analytics indexes."""

from __future__ import annotations

from aiohttp import web

from analytics.routes import add_routes
from app.keys import STORE


async def _indexes(app: web.Application) -> None:
    await app[STORE].analytics.ensure_indexes()


def setup(app: web.Application) -> None:
    add_routes(app)
    # on_startup runs after cleanup_ctx has opened the store.
    app.on_startup.append(_indexes)
