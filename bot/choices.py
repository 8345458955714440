"""Per-sender memory of the choices last shown (title or number → Rasa payload), in Redis.

Wati's buttons and list rows carry no ids: a tap comes back as its title. So
what was shown is kept per sender; a tap or a typed number resolves through it,
anything else stays free text for the NLU.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from redis import exceptions as redis_errors
from redis.asyncio import Redis

from bot.render import normalise_choice

log = logging.getLogger(__name__)

# wa:choices:<waId> -> hash {normalised title: payload}: titles accumulate, so an older
# button tapped later still works (a newer title with the same text wins).
# wa:choices:n:<waId> -> hash {number: payload}: replaced each time, numbers refer to what
# was shown last. Long enough for a patient who answers after lunch, short enough that a
# stale "2" from yesterday is free text again.
CHOICES_PREFIX = "wa:choices:"
NUMBERS_PREFIX = "wa:choices:n:"
CHOICES_TTL_S = 6 * 3600
# Choices are a convenience: with Redis away a tap is read as the text it shows (the NLU
# still understands most titles), never an error that loses the patient's message.
_REDIS_DOWN = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)


class Choices:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.ns = namespace

    def _key(self, wa_id: str) -> str:
        return f"{self.ns}{CHOICES_PREFIX}{wa_id}"

    def _numbers(self, wa_id: str) -> str:
        return f"{self.ns}{NUMBERS_PREFIX}{wa_id}"

    async def remember(self, wa_id: str, choices: dict[str, str]) -> None:
        if not choices:
            return
        numbers = {k: v for k, v in choices.items() if k.isdigit()}
        titles = {k: v for k, v in choices.items() if not k.isdigit()}
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                if titles:
                    pipe.hset(self._key(wa_id), mapping=cast(Any, titles))
                    pipe.expire(self._key(wa_id), CHOICES_TTL_S)
                pipe.delete(self._numbers(wa_id))
                if numbers:
                    pipe.hset(self._numbers(wa_id), mapping=cast(Any, numbers))
                    pipe.expire(self._numbers(wa_id), CHOICES_TTL_S)
                await pipe.execute()
        except _REDIS_DOWN as exc:
            log.warning("choices not remembered, redis unreachable (%s)", type(exc).__name__)

    async def resolve(self, wa_id: str, shown: str | None) -> str | None:
        """The payload behind a tapped title or typed number; None for free text."""
        if not shown:
            return None
        key = normalise_choice(shown)
        if not key:
            return None
        hash_key = self._numbers(wa_id) if key.isdigit() else self._key(wa_id)
        try:
            raw = await self.redis.hget(hash_key, key)
        except _REDIS_DOWN as exc:
            log.warning("choices lookup skipped, redis unreachable (%s)", type(exc).__name__)
            return None
        if raw is None:
            return None
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    async def forget(self, wa_id: str) -> None:
        await self.redis.delete(self._key(wa_id), self._numbers(wa_id))
