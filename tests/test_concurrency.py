"""No double booking under contention: 200 attempts for one slot, 4 threads each with its own
event loop and Redis client, one shared store; again with Redis unreachable; and over 4 OS
processes when a real MongoDB is configured."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
import time
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from booking import locks
from booking.locks import Coordinator
from booking.models import Role, User
from booking.service import Booked, BookingService, Policy, SlotTaken
from booking.store import MongoStore, Store
from notify.rules import BookingNotices
from tests.conftest import REDIS_TEST_URL, T0, Clock, make_doctor
from tests.wire_mongodb import WireMongo

THREADS = 4
PER_THREAD = 50
SLOT = datetime(2026, 12, 8, 9, tzinfo=ZoneInfo("Asia/Jakarta")).astimezone(UTC)
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _seed(sync_store: MongoStore, patients: int) -> None:
    sync_store.upsert_doctor(make_doctor())
    for i in range(patients):
        sync_store.insert_user(User(id=f"p{i}", name=f"P {i}", role=Role.patient))


async def _attempts(sync_store: MongoStore, redis_url: str, namespace: str,
                    patient_ids: list[str]) -> list[object]:
    redis = Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    service = BookingService(Store(sync_store), Coordinator(redis, namespace=namespace),
                             notices=BookingNotices(),
                             policy=Policy(), clock=Clock(T0))
    try:
        results = await asyncio.wait_for(asyncio.gather(
            *(service.book(pid, "doc-test-1", SLOT) for pid in patient_ids),
            return_exceptions=True), timeout=60)
    finally:
        await redis.aclose()
    return list(results)


def _run_threads(sync_store: MongoStore, redis_url: str) -> tuple[list[object], float]:
    namespace = f"test:{uuid.uuid4().hex[:12]}:"
    results: list[object] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        ids = [f"p{index * PER_THREAD + i}" for i in range(PER_THREAD)]
        out = asyncio.run(_attempts(sync_store, redis_url, namespace, ids))
        with lock:
            results.extend(out)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not any(t.is_alive() for t in threads), "an attempt hung"
    return results, time.monotonic() - started


def _check_exactly_one(results: list[object], sync_store: MongoStore) -> None:
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    won = [r for r in results if isinstance(r, Booked)]
    lost = [r for r in results if isinstance(r, SlotTaken)]
    assert len(results) == THREADS * PER_THREAD
    assert len(won) == 1
    assert len(lost) == len(results) - 1
    assert all(r.alternatives for r in lost), "every loser is offered alternatives"
    assert all(SLOT not in [s.start for _, s in r.alternatives] for r in lost)
    assert sync_store.bookings.count_documents({"status": "confirmed"}) == 1


@pytest.mark.timeout(180)
def test_200_attempts_4_threads_real_redis(sync_store: MongoStore) -> None:
    _seed(sync_store, THREADS * PER_THREAD)
    results, _ = _run_threads(sync_store, REDIS_TEST_URL)
    _check_exactly_one(results, sync_store)


@pytest.mark.timeout(180)
def test_200_attempts_with_redis_unreachable(sync_store: MongoStore,
                                             caplog: pytest.LogCaptureFixture,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # The outage flag is process-wide; an earlier test may have left it raised.
    monkeypatch.setitem(locks._OUTAGE, "down", False)
    _seed(sync_store, THREADS * PER_THREAD)
    with caplog.at_level(logging.WARNING, logger="booking.locks"):
        results, elapsed = _run_threads(sync_store, UNREACHABLE_REDIS)
    _check_exactly_one(results, sync_store)
    outage_lines = [r for r in caplog.records if "redis unreachable" in r.getMessage()]
    assert len(outage_lines) == 1, "the degraded mode is logged once, not per request"
    assert elapsed < 60


def _process_worker(url: str, db_name: str, redis_url: str, namespace: str, index: int,
                    queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = MongoStore.from_url(url, db_name=db_name)
    ids = [f"p{index * PER_THREAD + i}" for i in range(PER_THREAD)]
    results = asyncio.run(_attempts(store, redis_url, namespace, ids))
    queue.put([type(r).__name__ for r in results])


@pytest.mark.timeout(180)
def test_200_attempts_4_processes_one_database(wire_mongodb: WireMongo) -> None:
    """Four OS processes on one MongoDB wire server (MONGODB_URL, else nx-27017)."""
    url = wire_mongodb.url
    db_name = f"test_{uuid.uuid4().hex[:12]}"
    sync_store = MongoStore.from_url(url, db_name=db_name)
    sync_store.ensure_indexes()
    _seed(sync_store, THREADS * PER_THREAD)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    namespace = f"test:{uuid.uuid4().hex[:12]}:"
    procs = [ctx.Process(target=_process_worker,
                         args=(url, db_name, REDIS_TEST_URL, namespace, i, queue))
             for i in range(THREADS)]
    for p in procs:
        p.start()
    names = [n for _ in procs for n in queue.get(timeout=120)]
    for p in procs:
        p.join(timeout=30)
    try:
        assert names.count("Booked") == 1
        assert names.count("SlotTaken") == THREADS * PER_THREAD - 1
        assert sync_store.bookings.count_documents({"status": "confirmed"}) == 1
    finally:
        sync_store.client.drop_database(db_name)
        sync_store.close()
