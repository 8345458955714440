"""Operations: readiness (Mongo, Redis, Rasa), OpenAPI document and docs.

Prometheus metrics are on the internal listener (app/internal.py), not on the public port."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web

from api import schemas as s
from api.openapi import DOCS_HTML, cached_openapi
from app.http.spec import endpoint, reply
from app.keys import COORDINATOR, SETTINGS, STORE
from booking.errors import BookingError

log = logging.getLogger(__name__)

TAGS = ("operations",)
CHECK_TIMEOUT_S = 1.5


async def _mongo(request: web.Request) -> tuple[bool, str]:
    try:
        await asyncio.wait_for(request.config_dict[STORE].ping(), CHECK_TIMEOUT_S)
    except (BookingError, TimeoutError) as exc:
        return False, type(exc).__name__
    return True, "ping ok"


async def _redis(request: web.Request) -> tuple[bool, str]:
    try:
        ok = await asyncio.wait_for(request.config_dict[COORDINATOR].ping(), CHECK_TIMEOUT_S)
    except TimeoutError:
        return False, "timeout"
    return ok, "ping ok" if ok else "unreachable"


async def _rasa(request: web.Request) -> tuple[bool, str]:
    """Up when at least one replica answers (patients of a dead one move to the next)."""
    settings = request.config_dict[SETTINGS]
    params = {"token": settings.rasa_token.get_secret_value()}
    timeout = aiohttp.ClientTimeout(total=CHECK_TIMEOUT_S)

    async def one(session: aiohttp.ClientSession, base: str) -> str:
        try:
            async with session.get(base + "/status", params=params) as resp:
                # Any HTTP answer below 500 means the server is up.
                return f"HTTP {resp.status}" if resp.status < 500 else f"!HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return "!" + type(exc).__name__

    async with aiohttp.ClientSession(timeout=timeout) as session:
        answers = await asyncio.gather(*(one(session, u) for u in settings.rasa_replica_urls))
    up = [a for a in answers if not a.startswith("!")]
    if len(answers) == 1:
        return bool(up), answers[0].lstrip("!")
    return bool(up), f"{len(up)} of {len(answers)} replicas up"


@endpoint("Readiness: MongoDB, Redis and (for the bot role) Rasa reachable", tags=TAGS,
          responses={200: s.ReadyOut, 503: s.ReadyOut}, public=True)
async def ready(request: web.Request) -> web.Response:
    roles = request.config_dict[SETTINGS].role_set
    (mongo_ok, mongo_d), (redis_ok, redis_d), (rasa_ok, rasa_d) = await asyncio.gather(
        _mongo(request), _redis(request), _rasa(request))
    components = {
        "mongodb": s.ComponentOut(ok=mongo_ok, required=True, detail=mongo_d),
        "redis": s.ComponentOut(ok=redis_ok, required=True, detail=redis_d),
        "rasa": s.ComponentOut(ok=rasa_ok, required="bot" in roles, detail=rasa_d),
    }
    is_ready = all(c.ok for c in components.values() if c.required)
    return reply(s.ReadyOut(status="ready" if is_ready else "not_ready", components=components),
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
