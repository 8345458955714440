"""Two scheduler instances (threads, each with its own event loop, Redis client, booking service
and job runner) sweep one store at the same instants: every reminder is claimed by exactly one
of them and enqueued exactly once."""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis

from booking.locks import Coordinator
from booking.models import User
from booking.service import BookingService, Policy
from booking.store import MongoStore, Store
from booking.store_reminders import reminder_state
from notify.rules import BookingNotices
from scheduler.jobs import Jobs, SweepReport
from tests.conftest import REDIS_TEST_URL, Clock, drop_namespace
from tests.scheduler.conftest import START, make_booking, reminder_docs, scheduler_settings

BOOKINGS = 300
ROUNDS = 4
H = timedelta(hours=1)


async def _instance(name: str, sync_store: MongoStore, namespace: str, clock: Clock,
                    barrier: threading.Barrier, batch: int,
                    first_claim: threading.Barrier | None) -> list[SweepReport]:
    redis = Redis.from_url(REDIS_TEST_URL, socket_timeout=2, socket_connect_timeout=2)
    store = Store(sync_store)
    service = BookingService(store, Coordinator(redis, namespace=namespace),
                             notices=BookingNotices(), policy=Policy(),
                             clock=clock)
    jobs = Jobs(scheduler_settings(reminder_batch=batch), store, service, clock=clock,
                instance=name)
    if first_claim is not None:
        # Each instance has read its first due batch before either claims: the same
        # bookings, so the claims really collide (left to timing, one instance could sweep
        # its batches before the other reads any).
        claim_many, waited = store.reminders.claim_many, False

        async def claim_together(*args: Any, **kwargs: Any) -> Any:
            nonlocal waited
            if not waited:
                waited = True
                await asyncio.to_thread(first_claim.wait, 30)
            return await claim_many(*args, **kwargs)

        store.reminders.claim_many = claim_together  # type: ignore[method-assign]
    reports = []
    try:
        assert await service.coord.ping()  # really on the shared Redis server
        await jobs.prepare()
        for _ in range(ROUNDS):
            await asyncio.to_thread(barrier.wait, 30)
            reports.append(await jobs.run("sweep_reminders"))
            await jobs.run("complete_past")
            await asyncio.to_thread(barrier.wait, 30)
    finally:
        await redis.aclose()
    return reports


def _race(sync_store: MongoStore, clocks: list[Clock], batches: list[int], *,
          collide: bool = False) -> dict[str, list[SweepReport]]:
    namespace = f"test:{uuid.uuid4().hex[:12]}:"
    barrier = threading.Barrier(len(clocks))
    first_claim = threading.Barrier(len(clocks)) if collide else None
    results: dict[str, list[SweepReport]] = {}
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        name = f"instance-{index}"
        try:
            results[name] = asyncio.run(_instance(name, sync_store, namespace, clocks[index],
                                                  barrier, batches[index], first_claim))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            barrier.abort()
            if first_claim is not None:
                first_claim.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(clocks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    asyncio.run(drop_namespace(namespace))
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    return results


def test_two_instances_send_each_reminder_exactly_once(sync_store: MongoStore, doctor: object,
                                                       patients: list[User]) -> None:
    created = START - 72 * H
    ids = [make_booking(sync_store, start=START + timedelta(minutes=i), created=created,
                        patient_id=f"pat-{i % 3}", doctor_id="doc-test-1").id
           for i in range(BOOKINGS)]
    # both instances see the same time: every reminder is due (the last start is START + 5h)
    now = START + 5 * H - 24 * H
    results = _race(sync_store, [Clock(now), Clock(now)], batches=[25, 40], collide=True)

    reports = [r for rs in results.values() for r in rs]
    claimed = {name: sum(r.claimed for r in rs) for name, rs in results.items()}
    assert sum(claimed.values()) == BOOKINGS            # each claim was won exactly once
    assert all(claimed.values())                         # both did part of the work
    assert sum(r.lost for r in reports) > 0              # and they really raced for claims
    assert sum(r.handed_over for r in reports) == BOOKINGS
    assert sum(r.enqueued for r in reports) == BOOKINGS
    docs = reminder_docs(sync_store)
    assert len(docs) == BOOKINGS
    assert sorted(d["booking_id"] for d in docs) == sorted(ids)
    assert len({d["dedupe_key"] for d in docs}) == BOOKINGS
    assert all(reminder_state(sync_store, i, "24h")["state"] == "sent" for i in ids)


def test_two_instances_recover_an_abandoned_claim_once(sync_store: MongoStore, doctor: object,
                                                       patients: list[User]) -> None:
    """A third instance died holding claims: after expiry the two survivors share them out."""
    from booking.store_reminders import claim

    created = START - 72 * H
    ids = [make_booking(sync_store, start=START + timedelta(minutes=10 * i), created=created,
                        patient_id=f"pat-{i % 3}").id for i in range(60)]
    now = START - 24 * H + 10 * H
    for booking_id in ids[::2]:
        assert claim(sync_store, booking_id, "24h", token="dead", now=now - timedelta(minutes=6),
                     ttl=timedelta(minutes=5)) is not None
    results = _race(sync_store, [Clock(now), Clock(now)], batches=[7, 11])
    assert sum(r.claimed for rs in results.values() for r in rs) == len(ids)
    assert sorted(d["booking_id"] for d in reminder_docs(sync_store)) == sorted(ids)
