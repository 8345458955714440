"""Booking-core benchmarks (issue 2): availability, earliest across doctors, contended booking.

Run: `make bench` (or `.venv/bin/python -m bench.core`). Uses a real Redis (TEST_REDIS_URL,
else a private redis-server on a free port, as the tests do; fakeredis when redis-server is
not installed) and the in-process mongomock store.
Prints a Markdown table; docs/benchmarks.md records the figures.
"""

from __future__ import annotations

import asyncio
import os
import platform
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from booking import demo
from booking.locks import Coordinator, redis_client
from booking.models import Booking, Role, User, slot_key
from booking.refs import new_ref
from booking.service import Booked, BookingService, SlotTaken
from booking.slots import available_slots
from booking.store import MongoStore, Store
from notify.rules import BookingNotices
from tests import redis_server

NOW = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


def timeit(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median and p95 wall time in ms over `repeat` runs (after one warm-up)."""
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


async def make_redis() -> tuple[Redis, str]:
    try:
        url = redis_server.url()
    except RuntimeError:  # no redis-server on this machine
        return redis_client(None), "fakeredis"
    client = Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        await client.ping()
        return client, "real Redis on loopback"
    except Exception:  # noqa: BLE001 - fall back to the in-process stand-in
        await client.aclose()
        return redis_client(None), "fakeredis"


def seed_many_bookings(store: MongoStore, doctor_id: str, count: int) -> None:
    doctor = store.get_doctor(doctor_id)
    doctor = doctor.model_copy(update={"horizon_days": 365})
    store.upsert_doctor(doctor)
    end = NOW + timedelta(days=365)
    busy = store.busy_intervals([doctor.id], NOW, end)[doctor.id]
    slots = available_slots(doctor, now=NOW, start=NOW, end=end, bookings=busy)
    rng = random.Random(1)
    docs = []
    for slot in rng.sample(slots, count):
        docs.append(Booking(ref=new_ref(), patient_id=f"bench-{uuid.uuid4().hex[:6]}",
                            doctor_id=doctor.id, start=slot.start, end=slot.end,
                            created_at=NOW, updated_at=NOW,
                            slot_key=slot_key(doctor.id, slot.start)))
    for b in docs:
        store.insert_booking(b)


async def main() -> None:
    rows: list[tuple[str, str, str]] = []
    sync = MongoStore.from_url(None)
    demo.load(sync, password_hash="x", now=NOW, bookings_per_doctor=6)
    redis, redis_kind = await make_redis()
    ns = f"bench:{uuid.uuid4().hex[:8]}:"
    service = BookingService(Store(sync), Coordinator(redis, namespace=ns),
                             notices=BookingNotices(), clock=lambda: NOW)

    # 1. 30-day availability, one doctor with 1,000 bookings
    seed_many_bookings(sync, demo.DEMO_DOCTOR_ID, 1000)
    doctor = sync.get_doctor(demo.DEMO_DOCTOR_ID)
    busy = sync.busy_intervals([doctor.id], NOW, NOW + timedelta(days=31))[doctor.id]
    window = (NOW, NOW + timedelta(days=30))
    med, p95 = timeit(lambda: available_slots(doctor, now=NOW, start=window[0], end=window[1],
                                              bookings=busy), 200)
    n_slots = len(available_slots(doctor, now=NOW, start=window[0], end=window[1],
                                  bookings=busy))
    rows.append(("30-day availability, 1 doctor, 1,000 bookings (pure computation; "
                 f"{len(busy)} bookings in window, {n_slots} free slots)",
                 f"{med:.2f} ms", f"{p95:.2f} ms"))
    loop_samples = []
    for _ in range(50):
        t0 = time.perf_counter()
        await service.availability(doctor, *window)
        loop_samples.append((time.perf_counter() - t0) * 1000)
    loop_samples.sort()
    rows.append(("same, through the service (mongomock query + Redis holds)",
                 f"{statistics.median(loop_samples):.2f} ms",
                 f"{loop_samples[int(0.95 * 49)]:.2f} ms"))

    # 2. earliest slot across all demo doctors (a specialty mix)
    doctors, _ = sync.find_doctors()
    ids = [d.id for d in doctors]
    busy_all = sync.busy_intervals(ids, NOW, NOW + timedelta(days=4))

    def earliest_pure() -> None:
        best = None
        for d in doctors:
            slots = available_slots(d, now=NOW, start=NOW, end=NOW + timedelta(days=3),
                                    bookings=busy_all[d.id])
            if slots and (best is None or slots[0].start < best):
                best = slots[0].start

    med, p95 = timeit(earliest_pure, 100)
    rows.append((f"earliest slot across {len(doctors)} doctors (pure computation)",
                 f"{med:.2f} ms", f"{p95:.2f} ms"))
    samples = []
    for _ in range(30):
        t0 = time.perf_counter()
        await service.earliest(doctors, limit=3)
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    rows.append((f"earliest 3 slots across {len(doctors)} doctors, through the service",
                 f"{statistics.median(samples):.2f} ms", f"{samples[int(0.95 * 29)]:.2f} ms"))

    # 3. booking under 50-way contention: 20 slots, 50 patients racing for each
    patients = [User(id=f"bench-p{i}", name=f"P{i}", role=Role.patient) for i in range(1000)]
    for p in patients:
        sync.insert_user(p)
    target = sync.get_doctor("doc-sur-general-1")
    span = (NOW + timedelta(days=1), NOW + timedelta(days=8))
    taken_already = sync.busy_intervals([target.id], *span)[target.id]
    free = available_slots(target, now=NOW, start=span[0], end=span[1],
                           bookings=taken_already)[:20]
    latencies: list[float] = []
    outcomes = {"booked": 0, "taken": 0}

    async def attempt(patient_id: str, start: datetime) -> None:
        t0 = time.perf_counter()
        result = await service.book(patient_id, target.id, start)
        latencies.append((time.perf_counter() - t0) * 1000)
        outcomes["booked" if isinstance(result, Booked) else "taken"] += 1
        assert isinstance(result, (Booked, SlotTaken))

    t0 = time.perf_counter()
    for i, slot in enumerate(free):
        await asyncio.gather(*(attempt(patients[i * 50 + j].id, slot.start) for j in range(50)))
    elapsed = time.perf_counter() - t0
    latencies.sort()
    attempts = len(latencies)
    rows.append((f"booking, 50-way contention ({attempts} attempts on {len(free)} slots; "
                 f"{outcomes['booked']} booked, {outcomes['taken']} taken)",
                 f"{attempts / elapsed:.0f} attempts/s",
                 f"p95 {latencies[int(0.95 * (attempts - 1))]:.1f} ms"))
    assert outcomes["booked"] == len(free), "exactly one winner per slot"

    keys = [k async for k in redis.scan_iter(match=ns + "*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()

    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {redis_kind}, mongomock store\n")
    print("| measurement | median / rate | p95 |")
    print("|---|---|---|")
    for name, a, b in rows:
        print(f"| {name} | {a} | {b} |")


if __name__ == "__main__":
    asyncio.run(main())
