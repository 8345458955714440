"""Redis coordination: slot locks, holds, a small cache. The only module that talks to redis.

Redis makes contention cheap; it is not the guarantee (the unique slot_key in
Mongo is). When Redis is unreachable, locks and holds degrade to no-ops, logged
once per outage, and booking still stays correct through the database.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import BlockingConnectionPool, Redis

from booking.slots import Interval

log = logging.getLogger(__name__)

# Every key lives under a namespace (default "klinik:") so several deployments
# or test runs can share one Redis without seeing each other's keys.
DEFAULT_NAMESPACE = "klinik:"
# Per-slot lock around check-and-write. Long enough for a booking round-trip
# (a few ms, a few hundred under load), short enough that a crashed holder
# frees the slot quickly.
SLOT_LOCK_PREFIX = "lock:slot:"
SLOT_LOCK_TTL_MS = 5_000
# Per-patient lock: the "no two overlapping bookings for one patient" check
# reads other doctors' slots, so the slot lock alone cannot cover it.
PATIENT_LOCK_PREFIX = "lock:patient:"
# How long a caller waits for a busy lock before answering "taken": the winner
# usually finishes in milliseconds.
LOCK_WAIT_S = 3.0
LOCK_POLL_S = 0.005
# Holds hide a slot from other patients while one patient confirms in chat.
# hold:<doctor>:<start> -> patient id (PX = hold length); the per-doctor sorted
# set indexes them by expiry so availability reads them in one call.
HOLD_PREFIX = "hold:"
HOLD_INDEX_PREFIX = "holds:"
DEFAULT_HOLD_SECONDS = 300
CACHE_PREFIX = "cache:"
REDIS_MAX_CONNECTIONS = 64  # per process; enough for bursts, bounded for the server

# Release only if we still own the lock (the token matches).
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_REDIS_DOWN = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)
_OUTAGE = {"down": False}
_OUTAGE_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Hold:
    doctor_id: str
    start: datetime
    patient_id: str
    expires_at: datetime


def _slot_id(doctor_id: str, start: datetime) -> str:
    return f"{doctor_id}:{start.astimezone(UTC).strftime('%Y%m%dT%H%M')}"


class Coordinator:
    """Locks, holds and cache over one redis.asyncio client (bound to one event loop)."""

    def __init__(self, redis: Redis, *, hold_seconds: int = DEFAULT_HOLD_SECONDS,
                 namespace: str = DEFAULT_NAMESPACE) -> None:
        self.redis = redis
        self.ns = namespace
        self.hold_seconds = hold_seconds

    # ---- degraded mode (process-wide, so an outage is logged once, not per request) ---
    def _down(self, exc: BaseException) -> None:
        with _OUTAGE_LOCK:
            if _OUTAGE["down"]:
                return
            _OUTAGE["down"] = True
        log.warning("redis unreachable (%s): locks and holds disabled, "
                    "the database constraint alone guards bookings", type(exc).__name__)

    def _up(self) -> None:
        with _OUTAGE_LOCK:
            if not _OUTAGE["down"]:
                return
            _OUTAGE["down"] = False
        log.info("redis reachable again: locks and holds restored")

    @property
    def degraded(self) -> bool:
        return _OUTAGE["down"]

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except _REDIS_DOWN:
            return False

    # ---- locks ---------------------------------------------------------------------
    @asynccontextmanager
    async def lock(self, key: str, *, wait_s: float = LOCK_WAIT_S) -> AsyncIterator[bool]:
        """Yield True when held (or Redis is down: degraded), False if it stayed busy."""
        token = secrets.token_hex(8)
        deadline = time.monotonic() + wait_s
        acquired = False
        try:
            while True:
                if await self.redis.set(key, token, nx=True, px=SLOT_LOCK_TTL_MS):
                    acquired = True
                    self._up()
                    break
                if time.monotonic() >= deadline:
                    break
                await asyncio.sleep(LOCK_POLL_S)
        except _REDIS_DOWN as exc:
            self._down(exc)
            yield True
            return
        try:
            yield acquired
        finally:
            if acquired:
                try:
                    await self.redis.eval(_RELEASE, 1, key, token)
                except _REDIS_DOWN as exc:
                    self._down(exc)  # the TTL frees it
                except redis_errors.RedisError:
                    # the work under the lock is done; the TTL frees the key
                    log.exception("could not release lock %s", key)

    def slot_lock(self, doctor_id: str, start: datetime) -> Any:
        return self.lock(self.ns + SLOT_LOCK_PREFIX + _slot_id(doctor_id, start))

    def patient_lock(self, patient_id: str) -> Any:
        return self.lock(self.ns + PATIENT_LOCK_PREFIX + patient_id)

    # ---- holds ---------------------------------------------------------------------
    async def place_hold(self, doctor_id: str, start: datetime, end: datetime,
                         patient_id: str, *, seconds: int | None = None) -> Hold | None:
        """Hold a slot for a patient; None if another patient holds it. Re-holding refreshes.
        `seconds`: another lifetime than HOLD_SECONDS (a waitlist offer's)."""
        ttl = seconds or self.hold_seconds
        key = self.ns + HOLD_PREFIX + _slot_id(doctor_id, start)
        expires = datetime.now(UTC) + timedelta(seconds=ttl)
        try:
            ok = await self.redis.set(key, patient_id, nx=True, ex=ttl)
            if not ok:
                owner = await self.redis.get(key)
                if owner is None:  # expired in between: try once more
                    ok = await self.redis.set(key, patient_id, nx=True, ex=ttl)
                elif _text(owner) == patient_id:
                    ok = await self.redis.set(key, patient_id, xx=True, ex=ttl)
                if not ok:
                    return None
            member = json.dumps([start.astimezone(UTC).isoformat(),
                                 end.astimezone(UTC).isoformat(), patient_id])
            index = self.ns + HOLD_INDEX_PREFIX + doctor_id
            await self.redis.zadd(index, {member: expires.timestamp()})
            # long enough for the longest hold in it (waitlist offers outlive chat holds)
            await self.redis.expire(index, max(ttl, self.hold_seconds, 3600) + 60)
            self._up()
        except _REDIS_DOWN as exc:
            self._down(exc)
        return Hold(doctor_id, start, patient_id, expires)

    async def hold_owner(self, doctor_id: str, start: datetime) -> str | None:
        try:
            owner = await self.redis.get(self.ns + HOLD_PREFIX + _slot_id(doctor_id, start))
        except _REDIS_DOWN as exc:
            self._down(exc)
            return None
        return _text(owner) if owner is not None else None

    async def release_hold(self, doctor_id: str, start: datetime, patient_id: str) -> None:
        key = self.ns + HOLD_PREFIX + _slot_id(doctor_id, start)
        try:
            owner = await self.redis.get(key)
            if owner is not None and _text(owner) == patient_id:
                await self.redis.delete(key)
        except _REDIS_DOWN as exc:
            self._down(exc)
            return
        await self.holds_released(doctor_id, start)

    async def holds(self, doctor_ids: list[str], *, exclude_patient: str | None = None
                    ) -> dict[str, list[Interval]]:
        """Live holds per doctor, except the given patient's own."""
        out: dict[str, list[Interval]] = {d: [] for d in doctor_ids}
        if not doctor_ids:
            return out
        now = datetime.now(UTC).timestamp()
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for doctor_id in doctor_ids:
                    pipe.zrangebyscore(self.ns + HOLD_INDEX_PREFIX + doctor_id, now, "+inf")
                results = await pipe.execute()
        except _REDIS_DOWN as exc:
            self._down(exc)
            return out
        for doctor_id, members in zip(doctor_ids, results, strict=True):
            for raw in members:
                start_s, end_s, patient = json.loads(_text(raw))
                if patient == exclude_patient:
                    continue
                out[doctor_id].append(Interval(datetime.fromisoformat(start_s),
                                               datetime.fromisoformat(end_s)))
        return out

    async def holds_released(self, doctor_id: str, start: datetime) -> None:
        """Drop index entries of a slot once it is booked (its hold key is deleted separately)."""
        index = self.ns + HOLD_INDEX_PREFIX + doctor_id
        prefix = json.dumps([start.astimezone(UTC).isoformat()])[:-1]
        try:
            members = await self.redis.zrange(index, 0, -1)
            stale = [_text(m) for m in members if _text(m).startswith(prefix)]
            if stale:
                await self.redis.zrem(index, *stale)
        except _REDIS_DOWN as exc:
            self._down(exc)

    # ---- cache ---------------------------------------------------------------------
    async def cache_get(self, key: str) -> Any:
        try:
            raw = await self.redis.get(self.ns + CACHE_PREFIX + key)
        except _REDIS_DOWN as exc:
            self._down(exc)
            return None
        return json.loads(raw) if raw is not None else None

    async def cache_set(self, key: str, value: Any, ttl_s: int) -> None:
        try:
            await self.redis.set(self.ns + CACHE_PREFIX + key, json.dumps(value), ex=ttl_s)
        except _REDIS_DOWN as exc:
            self._down(exc)

    async def cache_bump(self, namespace: str) -> None:
        """Invalidate a namespace by bumping its generation (cheaper than SCAN + DEL)."""
        try:
            await self.redis.incr(self.ns + CACHE_PREFIX + "gen:" + namespace)
        except _REDIS_DOWN as exc:
            self._down(exc)

    async def cache_generation(self, namespace: str) -> int:
        try:
            raw = await self.redis.get(self.ns + CACHE_PREFIX + "gen:" + namespace)
        except _REDIS_DOWN as exc:
            self._down(exc)
            return -1
        return int(raw) if raw is not None else 0


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def redis_client(url: str | None, *, socket_timeout: float = 1.0) -> Redis:
    """A real client for a URL; the in-process fakeredis when url is None (embedded default)."""
    if url is None:
        import fakeredis

        return fakeredis.FakeAsyncRedis(server=_fake_server())
    # A blocking pool waits for a free connection under bursts instead of raising
    # MaxConnectionsError past the default pool size.
    pool = BlockingConnectionPool.from_url(url, max_connections=REDIS_MAX_CONNECTIONS,
                                           timeout=socket_timeout * 5,
                                           socket_timeout=socket_timeout,
                                           socket_connect_timeout=socket_timeout)
    return Redis.from_pool(pool)  # owns the pool: aclose() disconnects it


_FAKE_SERVER: Any = None


def _fake_server() -> Any:
    """One fake server per process, so every client (any event loop) sees the same data."""
    global _FAKE_SERVER
    if _FAKE_SERVER is None:
        import fakeredis

        _FAKE_SERVER = fakeredis.FakeServer()
    return _FAKE_SERVER
