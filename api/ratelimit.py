"""Login and registration rate limits per client IP and per account (Redis counters)."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from app.http.errors import ApiError
from app.keys import COORDINATOR, SETTINGS
from booking.ratelimit_store import RateLimitStore, bucket_id

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
             proxies: tuple[Network, ...]) -> bool:
    return addr is not None and any(addr in net for net in proxies)


def forwarded_client(peer: str, forwarded_for: str, proxies: tuple[Network, ...]) -> str:
    """The client address: the peer, unless the peer is a trusted proxy; then the nearest
    X-Forwarded-For entry that is not itself a trusted proxy (read right to left, since
    everything left of our own proxies was written by the client and proves nothing)."""
    if not _trusted(_ip(peer), proxies):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        addr = _ip(hop)
        if addr is None:
            return peer  # a malformed chain: trust nothing in it
        if not _trusted(addr, proxies):
            return str(addr)
    return str(_ip(hops[0])) if hops else peer


def client_ip(request: web.Request) -> str:
    settings = request.config_dict[SETTINGS]
    peer = request.remote or "unknown"
    return forwarded_client(peer, request.headers.get("X-Forwarded-For", ""),
                            settings.proxy_networks)


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
