"""Operations: readiness (Mongo, Redis, Rasa), OpenAPI document and docs.

Prometheus metrics are on the internal listener (app/internal.py), not on the public port."""

from __future__ import annotations

import logging

from aiohttp import web

from api import schemas as s
from api.openapi import DOCS_HTML, cached_openapi
from app.http.spec import endpoint, reply
from app.readiness import check

log = logging.getLogger(__name__)

TAGS = ("operations",)


@endpoint("Readiness: MongoDB, Redis and (for the bot role) Rasa reachable", tags=TAGS,
          responses={200: s.ReadyOut, 503: s.ReadyOut}, public=True)
async def ready(request: web.Request) -> web.Response:
    is_ready, components = await check(request.app)
    return reply(s.ReadyOut(status="ready" if is_ready else "not_ready",
                            components={name: s.ComponentOut(**c)
                                        for name, c in components.items()}),
                 status=200 if is_ready else 503)


@endpoint("This API's OpenAPI 3 document", tags=TAGS, responses={200: "application/json"},
          public=True)
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(cached_openapi(request.app))


@endpoint("API documentation page", tags=TAGS, responses={200: "text/html"}, public=True)
async def docs(request: web.Request) -> web.Response:
    return web.Response(text=DOCS_HTML, content_type="text/html",
                        headers={"Content-Security-Policy":
                                 "default-src 'self'; script-src 'unsafe-inline' 'self'; "
                                 "style-src 'unsafe-inline'"})
