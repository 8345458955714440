"""Browser-facing protections on every response of the public app: security headers, a CSP
on HTML pages that do not bring their own, HSTS behind https, and CORS only for the origins
in CORS_ORIGINS (aiohttp-cors answers the preflights; without origins nothing is allowed).
"""

from __future__ import annotations

import aiohttp_cors
from aiohttp import web

from app.keys import SETTINGS

DEFAULT_CSP = ("default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
               "form-action 'self'; object-src 'none'")
HSTS = "max-age=31536000; includeSubDomains"


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    if response.content_type == "text/html":
        headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
    public_url = request.app[SETTINGS].public_url or ""
    if public_url.lower().startswith("https://"):
        headers.setdefault("Strict-Transport-Security", HSTS)


def install(app: web.Application) -> None:
    """After every role has added its routes (CORS is configured per route)."""
    app.on_response_prepare.append(add_security_headers)
    origins = app[SETTINGS].cors_origin_set
    if not origins:
        return
    options = aiohttp_cors.ResourceOptions(
        allow_credentials=False, expose_headers=("Retry-After",),
        allow_headers=("Authorization", "Content-Type", "Idempotency-Key"),
        allow_methods=("GET", "POST", "PUT", "PATCH", "DELETE"), max_age=600)
    cors = aiohttp_cors.setup(app, defaults={origin: options for origin in sorted(origins)})
    for route in list(app.router.routes()):
        if route.method != "OPTIONS":
            cors.add(route)
