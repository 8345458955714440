"""Role setup: the REST API's routes and middlewares (metrics outermost, then errors), and the
web app at /app/."""

from __future__ import annotations

from aiohttp import web

from api import handlers_photos, webapp
from api.middlewares import error_middleware, metrics_middleware
from api.openapi import OPENAPI_KEY
from api.routes import ROUTES


def setup(app: web.Application) -> None:
    app.middlewares.append(metrics_middleware)
    app.middlewares.append(error_middleware)
    app[OPENAPI_KEY] = {}
    app.add_routes(ROUTES)
    handlers_photos.install(app)
    webapp.add_routes(app)
