"""The web app (React, built by Vite from web/ into web/dist) served at /app/.

Hashed assets (/app/assets/*) are cached for a year: a new build has new names. Every other
path under /app/ answers the HTML shell (the client-side router draws the page) with a strict
CSP and no-cache, so a new build is picked up at the next visit.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from aiohttp import web

log = logging.getLogger(__name__)

WEB_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
ASSET_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
ASSET_TYPES = {".js": "application/javascript", ".css": "text/css", ".svg": "image/svg+xml",
               ".png": "image/png", ".woff2": "font/woff2", ".ico": "image/x-icon"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
       "base-uri 'none'; form-action 'self'")
HTML_HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
IMMUTABLE = "public, max-age=31536000, immutable"
NOT_BUILT = ("<!doctype html><meta charset=utf-8><title>Klinik</title>"
             "<p>The web app is not built: run <code>make install</code> "
             "(npm ci --prefix web &amp;&amp; npm run --prefix web build).</p>")


async def redirect_to_app(request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently("/app/")


async def shell(request: web.Request) -> web.StreamResponse:
    index = WEB_DIST / "index.html"
    if not index.is_file():
        log.warning("web app missing: run `make install` (builds web/dist)")
        return web.Response(status=503, text=NOT_BUILT, content_type="text/html",
                            headers=HTML_HEADERS)
    return web.FileResponse(index, headers={**HTML_HEADERS, "Content-Type": "text/html"})


async def asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = WEB_DIST / "assets" / name
    kind = ASSET_TYPES.get(Path(name).suffix)
    if not ASSET_NAME.match(name) or kind is None or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": kind, "Cache-Control": IMMUTABLE,
                                           "X-Content-Type-Options": "nosniff"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/app", redirect_to_app, name="webapp_redirect")
    app.router.add_get("/app/assets/{name}", asset, name="webapp_asset")
    app.router.add_get("/app/{tail:.*}", shell, name="webapp_shell")
