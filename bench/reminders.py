"""Benchmark: N bookings whose reminders all fall due within one hour are claimed and handed to
the outbox by the reminder sweep (the same code the scheduler runs), by one or more instances.

    .venv/bin/python bench/reminders.py --bookings 100000                 # MONGODB_URL if set
    .venv/bin/python bench/reminders.py --bookings 2000 --store mongomock
    .venv/bin/python bench/reminders.py --bookings 100000 --instances 2   # two sweepers, threads

It prints one JSON line: bookings, elapsed seconds, reminders per second, and the checks
(every reminder enqueued exactly once, every claim closed). A real MongoDB gets its own
database (dropped afterwards). mongomock scans the whole collection for every operation,
so its rate falls as N grows: use it only for small N (see docs/benchmarks-reminders.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from notify.rules import BookingNotices

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.settings import Settings  # noqa: E402
from booking import store_reminders  # noqa: E402
from booking.locks import Coordinator, redis_client  # noqa: E402
from booking.models import Booking, Doctor, User, slot_key  # noqa: E402
from booking.service import BookingService  # noqa: E402
from booking.store import MongoStore, Store  # noqa: E402
from scheduler.jobs import Jobs  # noqa: E402

DOCTORS = 500
PATIENTS = 20_000
NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def install_hash_lookups() -> None:
    """For --store fastmock: mongomock answers every query by scanning the whole collection,
    so its cost per operation grows with the collection. Give it what any database's indexes
    give: direct lookups by _id (equality and $in) and by the outbox dedupe_key. Every other
    query, the sweep query included, still scans (so this is still slower than a database)."""
    from mongomock.collection import Collection
    from mongomock.filtering import filter_applies

    scan = Collection._iter_documents
    insert = Collection._insert

    def by_dedupe(coll: Any) -> dict[str, Any]:
        index: dict[str, Any] = coll._store.__dict__.setdefault("bench_by_dedupe", {})
        return index

    def iter_documents(self: Any, filter: Any) -> Any:  # noqa: A002 (mongomock's name)
        docs = self._store._documents
        keys: list[Any] | None = None
        if isinstance(filter, dict):
            _id = filter.get("_id")
            if isinstance(_id, str):
                keys = [_id]
            elif isinstance(_id, dict) and list(_id) == ["$in"]:
                keys = list(_id["$in"])
            elif self.name == "outbox" and isinstance(filter.get("dedupe_key"), str):
                found = by_dedupe(self).get(filter["dedupe_key"])
                keys = [found] if found is not None else []
        if keys is None:
            return scan(self, filter)
        return (d for d in [docs[k] for k in keys if k in docs] if filter_applies(filter, d))

    def insert_and_index(self: Any, data: Any, *args: Any, **kwargs: Any) -> Any:
        inserted = insert(self, data, *args, **kwargs)
        if self.name == "outbox" and isinstance(data, dict) and "dedupe_key" in data:
            by_dedupe(self)[data["dedupe_key"]] = inserted
        return inserted

    Collection._iter_documents = iter_documents  # type: ignore[method-assign]
    Collection._insert = insert_and_index  # type: ignore[method-assign]


def seed(store: MongoStore, n: int) -> None:
    """N confirmed bookings starting between NOW + 23h and NOW + 24h: all due within the last
    hour, as after a busy hour of a large deployment (or an hour of scheduler downtime)."""
    doctors = [Doctor(id=f"d{i}", name=f"dr. Bench {i}", specialty="general", city="Jakarta",
                      clinic="Klinik Bench", whatsapp=f"62813{i:08d}") for i in range(DOCTORS)]
    for doctor in doctors:
        store.upsert_doctor(doctor)
    users = [User(id=f"p{i}", name=f"Pasien {i}", whatsapp=f"62812{i:08d}").model_dump()
             for i in range(min(n, PATIENTS))]
    for user in users:
        user["_id"] = user.pop("id")
    store.users.insert_many(users)
    created = NOW - timedelta(days=7)
    docs = []
    for i in range(n):
        start = NOW + timedelta(hours=23) + timedelta(seconds=3600 * i / n)
        doctor_id = f"d{i % DOCTORS}"
        booking = Booking(ref=f"B{i:07d}", patient_id=f"p{i % PATIENTS}", doctor_id=doctor_id,
                          start=start, end=start + timedelta(minutes=30), created_at=created,
                          updated_at=created, slot_key=f"{slot_key(doctor_id, start)}#{i}")
        doc = booking.model_dump()
        doc["_id"] = doc.pop("id")
        docs.append(doc)
        if len(docs) == 10_000:
            store.bookings.insert_many(docs)
            docs = []
    if docs:
        store.bookings.insert_many(docs)


async def sweep_once(store: MongoStore, settings: Settings, name: str,
                     start_gate: threading.Barrier | None) -> dict[str, Any]:
    redis = redis_client(settings.redis_url.get_secret_value() if settings.redis_url else None)
    facade = Store(store)
    service = BookingService(facade, Coordinator(redis, namespace=f"bench:{name}:"),
                             notices=BookingNotices(),
                             clock=lambda: NOW)
    jobs = Jobs(settings, facade, service, clock=lambda: NOW, instance=name)
    try:
        await jobs.prepare()
        if start_gate is not None:
            await asyncio.to_thread(start_gate.wait)
        report = await jobs.reminders.sweep(max_batches=1_000_000)
    finally:
        await redis.aclose()
    return {"instance": name, "claimed": report.claimed, "lost": report.lost,
            "enqueued": report.enqueued, "outcomes": dict(report.outcomes)}


def run(store: MongoStore, n: int, batch: int, instances: int) -> dict[str, Any]:
    settings = Settings(reminder_batch=batch, reminder_late_grace_minutes=60,
                        load_demo_data=False)
    gate = threading.Barrier(instances + 1)
    results: list[dict[str, Any]] = []

    def worker(index: int) -> None:
        results.append(asyncio.run(sweep_once(store, settings, f"i{index}", gate)))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(instances)]
    for thread in threads:
        thread.start()
    gate.wait()  # every instance is set up (indexes, clients): start the clock
    began, cpu_began = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu_began  # robust when other work shares the machine

    outbox = store.outbox.count_documents({"kind": "appointment_reminder"})
    keys = len(store.outbox.distinct("dedupe_key"))
    sent = store.bookings.count_documents({"reminders.24h.state": "sent"})
    return {"bookings": n, "instances": instances, "batch": batch,
            "elapsed_s": round(elapsed, 3), "reminders_per_s": round(n / elapsed, 1),
            "cpu_s": round(cpu, 3), "reminders_per_cpu_s": round(n / cpu, 1),
            "checks": {"outbox_entries": outbox, "distinct_dedupe_keys": keys,
                       "claims_closed_as_sent": sent,
                       "claims_won": sum(r["claimed"] for r in results),
                       "exactly_once": outbox == keys == sent == n},
            "per_instance": sorted(results, key=lambda r: r["instance"])}


def pure(n: int) -> dict[str, Any]:
    """The scheduler's own work per reminder without any store: the timing rule and the outbox
    entry (text, params, dedupe key), for N bookings due within the hour."""
    from scheduler import messages, rules

    doctor = Doctor(id="d0", name="dr. Bench", specialty="general", city="Jakarta",
                    clinic="Klinik Bench", whatsapp="6281300000000")
    patient = User(id="p0", name="Pasien Bench", whatsapp="6281200000000")
    created = NOW - timedelta(days=7)
    bookings = [Booking(ref=f"B{i:07d}", patient_id="p0", doctor_id="d0",
                        start=NOW + timedelta(hours=23, seconds=3600 * i / n),
                        end=NOW + timedelta(hours=23, minutes=30), created_at=created,
                        updated_at=created) for i in range(n)]
    specs = rules.reminder_specs(1440)
    began, cpu_began = time.perf_counter(), time.process_time()
    built = 0
    for booking in bookings:
        decision = rules.decide(specs[0], start=booking.start, created_at=booking.created_at,
                                now=NOW, specs=specs, late_grace=timedelta(hours=1))
        if decision.action == rules.Action.send and messages.reminder_entry(
                booking, doctor, patient, kind="24h", now=NOW, late=decision.late):
            built += 1
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    assert built == n
    return {"mode": "pure", "bookings": n, "elapsed_s": round(elapsed, 3),
            "reminders_per_s": round(n / elapsed, 1), "cpu_s": round(cpu, 3),
            "reminders_per_cpu_s": round(n / cpu, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--store", choices=["auto", "mongomock", "fastmock", "mongodb"],
                        default="auto")
    parser.add_argument("--pure", action="store_true",
                        help="only the rules and the entry building, no store")
    args = parser.parse_args()
    if args.pure:
        print(json.dumps({**pure(args.bookings), "python": platform.python_version()}))
        return
    url = os.environ.get("MONGODB_URL") or os.environ.get("KLINIK_MONGODB_URL")
    kind = args.store if args.store != "auto" else ("mongodb" if url else "mongomock")
    if kind == "mongodb":
        if not url:
            raise SystemExit("--store mongodb needs MONGODB_URL")
        store = MongoStore.from_url(url, db_name=f"bench_{uuid.uuid4().hex[:10]}")
        store.ensure_indexes()
    else:
        if kind == "fastmock":
            install_hash_lookups()
        # mongomock checks unique indexes by scanning: the bench declares only the sweep index
        store = MongoStore.from_url(None)
        store_reminders.ensure_indexes(store, ["24h"])
    try:
        t0 = time.perf_counter()
        seed(store, args.bookings)
        seeded = time.perf_counter() - t0
        result = run(store, args.bookings, args.batch, args.instances)
        result.update(store=kind, seed_s=round(seeded, 1), python=platform.python_version(),
                      cpus=os.cpu_count())
        print(json.dumps(result))
    finally:
        if not store.is_mock:
            store.client.drop_database(store.db.name)
        store.close()


if __name__ == "__main__":
    main()
