"""Webhook intake: dedupe, persist before acknowledging, process after, in order per sender.

- A retried webhook is processed once: SET NX on its message id in Redis (48 h, longer
  than Wati's ~24 h of retries), backed by the unique _id of the persisted inbox document.
- The event is written to Mongo before the 200 goes out; a crash afterwards loses
  nothing: unprocessed events are picked up on start and by a periodic sweep.
- Each sender has a lane: a slot is reserved the moment the webhook arrives, so one
  sender's messages are handled strictly in arrival order; lanes run concurrently.
- An outage (database or Redis unreachable) while an event is handled is not its failure:
  the event stays pending and is retried with backoff, holding its lane so the sender's
  later messages still come after it. Only an error of the event itself marks it failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import Redis

from booking.errors import StoreUnavailable
from booking.store_chat import ChatStore
from bot.payloads import Action, Classified, WatiEvent, dedupe_key

log = logging.getLogger(__name__)

# wa:seen:<dedupe key> -> 1. Wati retries a webhook for about 24 hours: remember ids for 48.
SEEN_PREFIX = "wa:seen:"
SEEN_TTL_S = 48 * 3600
# The replica that accepted an event owns it for this long and renews that every sweep;
# events of a replica that stopped renewing (crashed) are taken over by the others, and by
# the next process on start. So a crash delays its queued messages by at most CLAIM_S.
CLAIM_S = 45.0
SWEEP_S = 15.0
_REDIS_DOWN = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)
# Outages, not bad events: retried (RETRY_BASE_S doubling up to RETRY_MAX_S) until they pass.
INFRASTRUCTURE = (StoreUnavailable, *_REDIS_DOWN)
RETRY_BASE_S = 0.5
RETRY_MAX_S = 30.0

Handler = Callable[[dict[str, Any]], Awaitable[None]]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Slot:
    key: str
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    doc: dict[str, Any] | None = None

    def fill(self, doc: dict[str, Any] | None) -> None:
        self.doc = doc
        self.ready.set()


class Inbox:
    def __init__(self, chat: ChatStore, redis: Redis, namespace: str, handler: Handler, *,
                 concurrency: int = 64, claim_s: float = CLAIM_S, sweep_s: float = SWEEP_S,
                 retry_base_s: float = RETRY_BASE_S, retry_max_s: float = RETRY_MAX_S,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.chat = chat
        self.redis = redis
        self.ns = namespace
        self.handler = handler
        self.claim_s = claim_s
        self.sweep_s = sweep_s
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.clock = clock
        self.token = uuid.uuid4().hex
        self._sem = asyncio.Semaphore(concurrency)
        self._lanes: dict[str, deque[_Slot]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._known: set[str] = set()  # keys queued in this process
        self._last_seq = 0
        self._sweeper: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    # ---- intake -----------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._last_seq = max(self._last_seq + 1, time.time_ns())
        return self._last_seq

    async def accept(self, event: WatiEvent, classified: Classified, raw_fields: dict[str, Any],
                     received_at: datetime) -> str:
        """'accepted' once persisted, 'duplicate' for a replay; raises if it cannot persist."""
        key = dedupe_key(event, classified)
        if key is None:
            return "ignored"
        lane = event.waId if classified.action != Action.status and event.waId else f"~{key}"
        slot = _Slot(key)
        self._reserve(lane, slot)  # the place in line is taken now, before any await
        try:
            if not await self._first_sight(key):
                slot.fill(None)
                return "duplicate"
            doc = {"_id": key, "seq": self._next_seq(), "lane": lane, "owner": self.token,
                   "owner_until": received_at + timedelta(seconds=self.claim_s),
                   "action": classified.action.value,
                   "status_event": classified.status.value if classified.status else None,
                   "wa_id": event.waId, "received_at": received_at, "status": "pending",
                   "event": raw_fields}
            if not await self.chat.inbox_put(doc):
                slot.fill(None)
                return "duplicate"
        except BaseException:
            slot.fill(None)
            await self._forget(key)
            raise
        self._known.add(key)
        slot.fill(doc)
        return "accepted"

    async def _first_sight(self, key: str) -> bool:
        try:
            return bool(await self.redis.set(self.ns + SEEN_PREFIX + key, 1, nx=True,
                                             ex=SEEN_TTL_S))
        except _REDIS_DOWN as exc:  # the inbox's unique _id still dedupes
            log.warning("redis unavailable for webhook dedupe: %s", type(exc).__name__)
            return True

    async def _forget(self, key: str) -> None:
        """Not persisted after all: let Wati's retry through."""
        with contextlib.suppress(*_REDIS_DOWN):
            await self.redis.delete(self.ns + SEEN_PREFIX + key)

    def _reserve(self, lane: str, slot: _Slot) -> None:
        queue = self._lanes.setdefault(lane, deque())
        queue.append(slot)
        if lane not in self._workers:
            self._idle.clear()
            task = asyncio.get_running_loop().create_task(self._work(lane))
            self._workers[lane] = task

    # ---- processing -------------------------------------------------------------------
    async def _work(self, lane: str) -> None:
        queue = self._lanes[lane]
        try:
            while queue:
                slot = queue[0]
                await slot.ready.wait()
                queue.popleft()
                if slot.doc is None:
                    continue
                attempt = 0
                while True:
                    async with self._sem:
                        done = await self._process(slot.doc)
                    if done:
                        break
                    # an outage: wait (without a worker slot), the lane keeps its order
                    await asyncio.sleep(min(self.retry_max_s,
                                            self.retry_base_s * 2 ** min(attempt, 16)))
                    attempt += 1
        finally:
            if not queue:
                self._lanes.pop(lane, None)
            self._workers.pop(lane, None)
            if not self._workers:
                self._idle.set()

    async def _process(self, doc: dict[str, Any]) -> bool:
        """Handle one event; False: an outage interrupted it, try again later."""
        key = doc["_id"]
        finished = True
        try:
            if doc.get("owner") != self.token:  # recovered from a crashed replica
                now = self.clock()
                if not await self.chat.inbox_takeover(key, self.token, now,
                                                      now + timedelta(seconds=self.claim_s)):
                    return True  # someone else took it, or it is done
                doc["owner"] = self.token
            try:
                await self.handler(doc)
            except INFRASTRUCTURE as exc:
                log.warning("webhook event waits for the outage to pass (%s)",
                            type(exc).__name__)
                finished = False
                return False
            except Exception as exc:  # one bad event must not stop the lane
                log.exception("processing webhook event failed")
                await self.chat.inbox_finish(key, "failed", self.clock(), type(exc).__name__)
                return True
            await self.chat.inbox_finish(key, "done", self.clock())
        except Exception:
            # The store is down: the event stays pending and a sweep retries it.
            log.warning("webhook event left for retry: store unavailable")
        finally:
            if finished:
                self._known.discard(key)
        return True

    # ---- start, sweep, stop ---------------------------------------------------------------
    async def recover(self) -> int:
        """Queue what was accepted but not processed (crash, restart, a dead replica)."""
        docs = await self.chat.inbox_unprocessed(self.clock())
        count = 0
        for doc in docs:
            if doc["_id"] in self._known:
                continue
            self._known.add(doc["_id"])
            slot = _Slot(doc["_id"])
            self._reserve(doc.get("lane") or doc.get("wa_id") or f"~{doc['_id']}", slot)
            slot.fill(doc)
            count += 1
        if count:
            log.info("picked up %d unprocessed webhook events", count)
        return count

    def start(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_s)
            try:
                if self._known:
                    await self.chat.inbox_heartbeat(
                        self.token, self.clock() + timedelta(seconds=self.claim_s))
                await self.recover()
            except Exception:
                log.warning("inbox sweep failed; retrying later")

    async def idle(self, timeout: float = 30.0) -> None:
        """Wait until every queued event is processed (tests, shutdown)."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def stop(self, *, grace_s: float = 5.0) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self._workers and grace_s > 0:
            with contextlib.suppress(TimeoutError):
                await self.idle(grace_s)
        for task in list(self._workers.values()):
            task.cancel()
        for task in list(self._workers.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    @property
    def busy(self) -> int:
        return sum(len(q) for q in self._lanes.values())
