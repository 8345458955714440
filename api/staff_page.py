"""The staff inbox page (staff/: HTML, JS, CSS served as files): it signs in and calls the
staff inbox API (api/handlers_handoffs.py) with the access token; the page itself is public."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from app.http.spec import endpoint

STAFF_DIR = Path(__file__).resolve().parent.parent / "staff"
FILES = {"app.js": "application/javascript", "style.css": "text/css"}
TAGS = ("handoffs",)


@endpoint("The staff inbox page", tags=TAGS, responses={200: "text/html"}, public=True)
async def staff_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STAFF_DIR / "index.html", headers={"Cache-Control": "no-cache"})


@endpoint("An asset of the staff inbox page", tags=TAGS,
          responses={200: "application/javascript", 404: None}, public=True)
async def staff_asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in FILES:
        raise web.HTTPNotFound()
    return web.FileResponse(STAFF_DIR / name, headers={"Content-Type": FILES[name],
                                                       "Cache-Control": "no-cache"})


ROUTES = [web.get("/staff", staff_page), web.get("/staff/{name}", staff_asset)]
