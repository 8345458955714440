"""Revoked refresh tokens (by jti) in Redis, kept until the token would expire anyway.

Fails closed: when Redis is unreachable a refresh cannot be checked, so it is refused
(StoreUnavailable), never silently accepted.
"""

from __future__ import annotations

from redis import exceptions as redis_errors
from redis.asyncio import Redis

from booking.errors import StoreUnavailable

# revoked:<jti> -> "1"; TTL = the token's remaining lifetime (+ leeway), then it is moot.
REVOKED_PREFIX = "revoked:"
_REDIS_DOWN = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)


class Revocations:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.ns = namespace

    async def revoke(self, jti: str, ttl_s: int) -> bool:
        """Revoke; True when this call revoked it (False: it was already revoked or used)."""
        try:
            return bool(await self.redis.set(self.ns + REVOKED_PREFIX + jti, "1", nx=True,
                                              ex=max(1, ttl_s)))
        except _REDIS_DOWN as exc:
            raise StoreUnavailable("token store unreachable") from exc

    async def is_revoked(self, jti: str) -> bool:
        try:
            return bool(await self.redis.exists(self.ns + REVOKED_PREFIX + jti))
        except _REDIS_DOWN as exc:
            raise StoreUnavailable("token store unreachable") from exc
