"""Login and registration rate limits per client IP and per account (Redis counters)."""

from __future__ import annotations

from aiohttp import web

from api.errors import ApiError
from app.keys import COORDINATOR, SETTINGS
from booking.ratelimit_store import RateLimitStore, bucket_id


def client_ip(request: web.Request) -> str:
    # The peer address; a proxy in front must be configured to pass the real one.
    return request.remote or "unknown"


async def enforce(request: web.Request, kind: str, value: str, limit: int) -> None:
    """Count one attempt in bucket (kind, value); 429 with Retry-After once over the limit."""
    settings = request.config_dict[SETTINGS]
    coord = request.config_dict[COORDINATOR]
    store = RateLimitStore(coord.redis, coord.ns)
    allowed, retry_after = await store.hit(bucket_id(kind, value), limit,
                                           settings.rate_window_seconds)
    if not allowed:
        raise ApiError(429, "rate_limited", "too many attempts; try again later",
                       {"retry_after": retry_after}, headers={"Retry-After": str(retry_after)})
