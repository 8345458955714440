"""Redis counters for rate limits (fixed windows). Driver code lives here, not in handlers.

Degrades open: when Redis is unreachable the limit is not enforced (logged), so
an outage never locks every patient out of logging in.
"""

from __future__ import annotations

import hashlib
import logging
import time

from redis import exceptions as redis_errors
from redis.asyncio import Redis

log = logging.getLogger(__name__)

# rate:<bucket>:<window index> -> attempts in that window; expires with the window.
RATE_PREFIX = "rate:"
_REDIS_DOWN = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)


def bucket_id(kind: str, value: str) -> str:
    """A bucket name that does not put emails or addresses into Redis keys in clear."""
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:24]
    return f"{kind}:{digest}"


class RateLimitStore:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.ns = namespace

    async def hit(self, bucket: str, limit: int, window_s: int) -> tuple[bool, int]:
        """Count one attempt; (allowed, seconds until the window resets)."""
        now = time.time()
        window = int(now // window_s)
        retry_after = max(1, int((window + 1) * window_s - now))
        key = f"{self.ns}{RATE_PREFIX}{bucket}:{window}"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, window_s + 1)
                count, _ = await pipe.execute()
        except _REDIS_DOWN as exc:
            log.warning("rate limit not enforced, redis unreachable (%s)", type(exc).__name__)
            return True, 0
        return int(count) <= limit, retry_after
