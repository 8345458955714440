"""Readiness of a process: MongoDB, Redis and (for the bot role) Rasa reachable.

Every role answers `GET /ready` (Kubernetes readiness probes, load balancer health checks):
the api role through its documented endpoint (api/handlers_ops.py), the other roles through
the plain handler here. A component is required when this process cannot work without it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web

from app.keys import COORDINATOR, SETTINGS, STORE
from booking.errors import BookingError

CHECK_TIMEOUT_S = 1.5


async def _mongo(app: web.Application) -> tuple[bool, str]:
    try:
        await asyncio.wait_for(app[STORE].ping(), CHECK_TIMEOUT_S)
    except (BookingError, TimeoutError) as exc:
        return False, type(exc).__name__
    return True, "ping ok"


async def _redis(app: web.Application) -> tuple[bool, str]:
    try:
        ok = await asyncio.wait_for(app[COORDINATOR].ping(), CHECK_TIMEOUT_S)
    except TimeoutError:
        return False, "timeout"
    return ok, "ping ok" if ok else "unreachable"


async def _rasa(app: web.Application) -> tuple[bool, str]:
    """Up when at least one replica answers (patients of a dead one move to the next)."""
    settings = app[SETTINGS]
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


async def check(app: web.Application) -> tuple[bool, dict[str, dict[str, Any]]]:
    """(ready, {component: {ok, required, detail}})."""
    roles = app[SETTINGS].role_set
    (mongo_ok, mongo_d), (redis_ok, redis_d), (rasa_ok, rasa_d) = await asyncio.gather(
        _mongo(app), _redis(app), _rasa(app))
    components = {
        "mongodb": {"ok": mongo_ok, "required": True, "detail": mongo_d},
        "redis": {"ok": redis_ok, "required": True, "detail": redis_d},
        "rasa": {"ok": rasa_ok, "required": "bot" in roles, "detail": rasa_d},
    }
    ready = all(c["ok"] for c in components.values() if c["required"])
    return ready, components


async def ready(request: web.Request) -> web.Response:
    """`GET /ready` of processes without the api role (same body as the api's)."""
    is_ready, components = await check(request.app)
    return web.json_response({"status": "ready" if is_ready else "not_ready",
                              "components": components}, status=200 if is_ready else 503)
