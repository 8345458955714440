"""One-time codes that prove a person reads a WhatsApp number (Redis).

`wa-verify:<user id>` holds the number, a salted hash of the code (never the code) and the
tries left; it expires with the code (10 minutes). Five wrong tries void the code. A new
code replaces the old one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from redis import exceptions as redis_errors
from redis.asyncio import Redis

from booking.errors import StoreUnavailable

PREFIX = "wa-verify:"
CODE_TTL_S = 600
MAX_TRIES = 5
_REDIS_DOWN = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)


class Outcome(StrEnum):
    ok = "ok"
    wrong = "wrong"          # a try used up
    exhausted = "exhausted"  # no tries left: the code is void
    missing = "missing"      # no code (never sent, expired or already used)


@dataclass(frozen=True, slots=True)
class Checked:
    outcome: Outcome
    number: str | None = None
    tries_left: int = 0


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _digest(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


class VerificationCodes:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.ns = namespace

    def _key(self, user_id: str) -> str:
        return f"{self.ns}{PREFIX}{user_id}"

    async def issue(self, user_id: str, number: str, code: str) -> None:
        salt = secrets.token_hex(8)
        key = self._key(user_id)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                pipe.hset(key, mapping={"number": number, "salt": salt,
                                        "digest": _digest(salt, code), "tries": MAX_TRIES})
                pipe.expire(key, CODE_TTL_S)
                await pipe.execute()
        except _REDIS_DOWN as exc:
            raise StoreUnavailable("code store unreachable") from exc

    async def check(self, user_id: str, code: str) -> Checked:
        """Spend one try on `code`; the code is deleted once it matched or ran out."""
        key = self._key(user_id)
        try:
            tries_left = int(await self.redis.hincrby(key, "tries", -1))
            raw = await self.redis.hgetall(key)
            stored = {_text(k): _text(v) for k, v in raw.items()}
            if "digest" not in stored:
                await self.redis.delete(key)  # hincrby on a missing key created it
                return Checked(Outcome.missing)
            salt, number = stored["salt"], stored["number"]
            if tries_left < 0:
                await self.redis.delete(key)
                return Checked(Outcome.exhausted)
            if hmac.compare_digest(_digest(salt, code).encode(), stored["digest"].encode()):
                await self.redis.delete(key)
                return Checked(Outcome.ok, number)
            if tries_left == 0:
                await self.redis.delete(key)
                return Checked(Outcome.exhausted)
            return Checked(Outcome.wrong, tries_left=tries_left)
        except _REDIS_DOWN as exc:
            raise StoreUnavailable("code store unreachable") from exc
