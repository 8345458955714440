"""HTTP handlers: GET /analytics (admins) and the dashboard page with its assets."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from analytics.metrics import definitions
from analytics.query import AnalyticsQuery
from analytics.service import AnalyticsService
from app.http.auth import requires
from app.http.schemas import ErrorOut
from app.http.spec import QUERY, endpoint
from app.keys import COORDINATOR, SETTINGS, STORE

log = logging.getLogger(__name__)

TAGS = ("analytics",)
DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "dashboard"
STATIC_FILES = {"app.js": "application/javascript", "style.css": "text/css",
                # the NLU inbox page (admin API of bot/retrain; docs/nlu.md)
                "nlu.html": "text/html; charset=utf-8", "nlu.js": "application/javascript"}
# Chart.js comes from the npm registry at set-up (npm install --prefix dashboard).
CHART_JS = DASHBOARD_DIR / "node_modules" / "chart.js" / "dist" / "chart.umd.js"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@requires("admin")
@endpoint("Clinic analytics for a date range (admins)", tags=TAGS, query=AnalyticsQuery,
          responses={200: "application/json", 401: ErrorOut, 403: ErrorOut, 422: ErrorOut,
                     503: ErrorOut})
async def get_analytics(request: web.Request) -> web.Response:
    query = request[QUERY]
    assert isinstance(query, AnalyticsQuery)
    settings = request.app[SETTINGS]
    service = AnalyticsService(request.app[STORE], request.app[COORDINATOR],
                               cache_ttl_s=settings.analytics_cache_seconds)
    body = await service.metrics(query)   # StoreUnavailable -> 503 by the API's error layer
    return web.json_response(body, headers={"Cache-Control": "no-store"})


@requires("admin")
@endpoint("Definitions of the analytics metrics (admins)", tags=TAGS,
          responses={200: "application/json", 401: ErrorOut, 403: ErrorOut})
async def get_definitions(request: web.Request) -> web.Response:
    return web.json_response(definitions())


async def dashboard_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(DASHBOARD_DIR / "index.html",
                            headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


async def dashboard_asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    return web.FileResponse(DASHBOARD_DIR / name,
                            headers={"Content-Type": STATIC_FILES[name],
                                     "Cache-Control": "no-cache", **SECURITY_HEADERS})


async def chart_js(request: web.Request) -> web.StreamResponse:
    if not CHART_JS.is_file():
        log.warning("Chart.js missing: run `npm install --prefix dashboard`")
        return web.Response(status=503, text="/* Chart.js not installed: "
                                             "npm install --prefix dashboard */",
                            content_type="application/javascript")
    return web.FileResponse(CHART_JS, headers={"Content-Type": "application/javascript",
                                               "Cache-Control": "public, max-age=3600"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/analytics", get_analytics, name="analytics")
    app.router.add_get("/analytics/definitions", get_definitions, name="analytics_definitions")
    app.router.add_get("/dashboard", dashboard_page, name="dashboard")
    app.router.add_get("/dashboard/vendor/chart.umd.js", chart_js, name="dashboard_chartjs")
    app.router.add_get("/dashboard/{name}", dashboard_asset, name="dashboard_asset")
