"""Status webhooks that arrive before the send that caused them is recorded.

Wati may report "delivered" before the dispatcher has stored the message id Wati
just returned. Such an unmatched status is parked in Redis for a few minutes and
applied by the dispatcher right after it records the send.
"""

from __future__ import annotations

import contextlib

from redis import exceptions as redis_errors
from redis.asyncio import Redis

from notify.outbox import OutboxStatus

# wa:status:<provider id> -> hash {status: error}; only needed for the seconds between
# Wati accepting a send and the dispatcher recording it.
PARKED_PREFIX = "wa:status:"
PARKED_TTL_S = 600
_RANK = {OutboxStatus.sent: 1, OutboxStatus.delivered: 2, OutboxStatus.read: 3,
         OutboxStatus.failed: 4}
_REDIS_DOWN = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)


class ParkedStatuses:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.ns = namespace

    async def park(self, ids: list[str], status: OutboxStatus, error: str | None) -> None:
        with contextlib.suppress(*_REDIS_DOWN):
            async with self.redis.pipeline(transaction=False) as pipe:
                for i in ids:
                    pipe.hset(self.ns + PARKED_PREFIX + i, status.value, error or "")
                    pipe.expire(self.ns + PARKED_PREFIX + i, PARKED_TTL_S)
                await pipe.execute()

    async def take(self, ids: list[str]) -> tuple[OutboxStatus, str | None] | None:
        """The most advanced parked status of these ids (failed wins), if any."""
        found: dict[OutboxStatus, str] = {}
        try:
            for i in ids:
                raw = await self.redis.hgetall(self.ns + PARKED_PREFIX + i)
                for k, v in raw.items():
                    key = k.decode() if isinstance(k, bytes) else str(k)
                    found[OutboxStatus(key)] = v.decode() if isinstance(v, bytes) else str(v)
        except _REDIS_DOWN:
            return None
        if not found:
            return None
        best = max(found, key=lambda s: _RANK.get(s, 0))
        return best, found[best] or None
