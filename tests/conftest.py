"""Shared fixtures: the store (mongomock, and a real MongoDB when MONGODB_URL is set),
the real Redis (the run's own server from tests/redis_server.py unless TEST_REDIS_URL is
given; namespaced per test, so parallel runs never collide), a controllable clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
from redis.asyncio import Redis

from booking.locks import Coordinator
from booking.models import Break, Doctor, Role, User, WeeklyRule
from booking.service import BookingService, Policy
from booking.store import MongoStore, Store
from notify.rules import BookingNotices
from tests import redis_server

# Every app a test builds opens its internal listener (actions, /metrics) on a free port,
# never on the fixed default a developer's `make run` may hold.
os.environ.setdefault("KLINIK_ACTIONS_PORT", "0")
# session_redis (the run's Redis) and wire_mongodb (the multi-process tests' database)
pytest_plugins = ["tests.redis_server", "tests.wire_mongodb"]
REDIS_TEST_URL = redis_server.url()  # starts the run's own Redis unless TEST_REDIS_URL is set
MONGODB_URL = os.environ.get("MONGODB_URL") or os.environ.get("KLINIK_MONGODB_URL")
STORE_KINDS = ["mongomock"] + (["mongodb"] if MONGODB_URL and not
                               MONGODB_URL.startswith("mongomock://") else [])


# Monday 7 December 2026, 00:00 UTC = 07:00 WIB
T0 = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def make_sync_store(kind: str) -> MongoStore:
    if kind == "mongomock":
        store = MongoStore.from_url(None)
    else:
        assert MONGODB_URL
        store = MongoStore.from_url(MONGODB_URL, db_name=f"test_{uuid.uuid4().hex[:12]}")
    store.ensure_indexes()
    return store


@pytest.fixture(params=STORE_KINDS)
def sync_store(request: pytest.FixtureRequest) -> Iterator[MongoStore]:
    store = make_sync_store(request.param)
    yield store
    if not store.is_mock:
        store.client.drop_database(store.db.name)
    store.close()


@pytest.fixture
def store(sync_store: MongoStore) -> Store:
    return Store(sync_store)


@pytest.fixture
def redis_namespace() -> str:
    return f"test:{uuid.uuid4().hex[:12]}:"


async def drop_namespace(namespace: str, url: str = REDIS_TEST_URL) -> None:
    """Delete every key of a test's Redis namespace."""
    client = Redis.from_url(url)
    try:
        keys = [k async for k in client.scan_iter(match=namespace + "*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def coordinator(redis_namespace: str) -> AsyncIterator[Coordinator]:
    """A coordinator on the real Redis server."""
    client = Redis.from_url(REDIS_TEST_URL, socket_timeout=2, socket_connect_timeout=2)
    coord = Coordinator(client, hold_seconds=300, namespace=redis_namespace)
    yield coord
    await client.aclose()
    await drop_namespace(redis_namespace)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(store: Store, coordinator: Coordinator, clock: Clock) -> BookingService:
    return BookingService(store, coordinator,
                          notices=BookingNotices(), policy=Policy(cutoff_minutes=120), clock=clock)


def make_doctor(**overrides: object) -> Doctor:
    """A Jakarta GP: Mon-Fri 09-12 and 13-16, 30-minute slots, lunch is the gap."""
    data: dict[str, object] = dict(
        id="doc-test-1", name="dr. Test Satu", specialty="general", city="Jakarta",
        clinic="Klinik Uji", timezone="Asia/Jakarta", slot_minutes=30, min_notice_minutes=60,
        horizon_days=30,
        weekly=[WeeklyRule(weekday=d, start=time(s), end=time(e))
                for d in range(5) for s, e in ((9, 12), (13, 16))],
        breaks=[Break(start=time(10, 0), end=time(10, 30), weekdays=[4])],
        fee=150_000)
    data.update(overrides)
    return Doctor.model_validate(data)


@pytest.fixture
def doctor(sync_store: MongoStore) -> Doctor:
    doc = make_doctor()
    sync_store.upsert_doctor(doc)
    return doc


@pytest.fixture
def patients(sync_store: MongoStore) -> list[User]:
    users = [User(id=f"pat-{i}", name=f"Pasien {i}", whatsapp=f"62812000{i:05d}",
                  role=Role.patient) for i in range(3)]
    for user in users:
        sync_store.insert_user(user)
    return users


from tests.browser import browser  # noqa: E402,F401 - the shared headless Chromium fixture
