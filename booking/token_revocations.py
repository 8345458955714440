"""Token state in Redis: used refresh tokens, denied access tokens, revoked families, and
each user's minimum token version. Every key expires when the tokens it speaks about
would have expired anyway, so nothing accumulates.

- A refresh token is single use: `used:<jti>` (SET NX) records its use. Presenting it a
  second time is reuse — a stolen token racing its owner — and revokes its whole family
  (`family:<fam>`): every access and refresh token issued since that login.
- Logout denies the presented access token by jti (`denied:<jti>`) and revokes its family.
- "Log out everywhere" or a password change raises the user's token version; the user
  document holds it durably, `tokver:<user>` mirrors it for the access-token lifetime so a
  request is checked with one Redis round trip and no database read.

Refresh fails closed (StoreUnavailable when Redis is unreachable): it mints new tokens.
The access check fails open by choice of the caller: a signed access token lives 15
minutes, and refusing every request while Redis is down would take the API down with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis import exceptions as redis_errors
from redis.asyncio import Redis

from booking.errors import StoreUnavailable

USED_PREFIX = "used:"
DENIED_PREFIX = "denied:"
FAMILY_PREFIX = "family:"
VERSION_PREFIX = "tokver:"
_REDIS_DOWN = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)


@dataclass(frozen=True, slots=True)
class AccessState:
    denied: bool            # this access token was logged out
    family_revoked: bool    # its login session was revoked (logout, refresh reuse)
    min_version: int        # tokens of an older user token version are void


class Revocations:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.ns = namespace

    async def use_refresh(self, jti: str, ttl_s: int) -> bool:
        """Mark a refresh token used; True when this call used it (False: reuse)."""
        try:
            return bool(await self.redis.set(self.ns + USED_PREFIX + jti, "1", nx=True,
                                              ex=max(1, ttl_s)))
        except _REDIS_DOWN as exc:
            raise StoreUnavailable("token store unreachable") from exc

    async def family_revoked(self, family: str) -> bool:
        try:
            return bool(await self.redis.exists(self.ns + FAMILY_PREFIX + family))
        except _REDIS_DOWN as exc:
            raise StoreUnavailable("token store unreachable") from exc

    async def revoke_family(self, family: str, ttl_s: int) -> None:
        try:
            await self.redis.set(self.ns + FAMILY_PREFIX + family, "1", ex=max(1, ttl_s))
        except _REDIS_DOWN as exc:
            raise StoreUnavailable("token store unreachable") from exc

    async def deny_access(self, jti: str, ttl_s: int) -> None:
        try:
            await self.redis.set(self.ns + DENIED_PREFIX + jti, "1", ex=max(1, ttl_s))
        except _REDIS_DOWN as exc:
            raise StoreUnavailable("token store unreachable") from exc

    async def raise_version(self, user_id: str, version: int, ttl_s: int) -> None:
        """Access tokens below `version` are void from now on (durable copy: the user doc)."""
        try:
            await self.redis.set(self.ns + VERSION_PREFIX + user_id, str(version),
                                 ex=max(1, ttl_s))
        except _REDIS_DOWN as exc:
            raise StoreUnavailable("token store unreachable") from exc

    async def access_state(self, jti: str, family: str, user_id: str) -> AccessState:
        """Everything an access check needs, in one round trip."""
        try:
            denied, revoked, version = await self.redis.mget(
                self.ns + DENIED_PREFIX + jti, self.ns + FAMILY_PREFIX + family,
                self.ns + VERSION_PREFIX + user_id)
        except _REDIS_DOWN as exc:
            raise StoreUnavailable("token store unreachable") from exc
        return AccessState(denied is not None, revoked is not None,
                           int(version) if version is not None else 0)
