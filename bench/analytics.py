"""Benchmark: the full GET /analytics computation over 100,000 bookings and 500,000 chat
messages on mongomock (the in-process stand-in), plus each pipeline on its own.

    .venv/bin/python -m bench.analytics [--bookings N] [--messages N] [--days D]

Uses the Redis of the tests for the cached call (TEST_REDIS_URL, else a private
redis-server on a free port, tests/redis_server.py); keys are namespaced and deleted
afterwards. Figures go to docs/benchmarks-analytics.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import mongomock
from redis.asyncio import Redis

from analytics.query import AnalyticsQuery
from analytics.service import AnalyticsService
from booking import mongomock_cursor
from booking import store_analytics as q
from booking.demo import build_doctors
from booking.locks import Coordinator
from booking.store import MongoStore, Store
from tests import redis_server

REDIS_URL = redis_server.url()
END = date(2026, 12, 31)
SOURCES = ["whatsapp"] * 6 + ["web"] * 2 + ["mobile", "admin"]
STATUSES = ["completed"] * 6 + ["cancelled"] * 2 + ["no_show", "confirmed", "rescheduled"]
INTENTS = ["book_appointment", "inform", "greet", "cancel_booking", "reschedule_booking",
           "ask_price", "affirm", "deny", "nlu_fallback", "ask_location", "thanks", "faq_bpjs"]
REMINDER_STATUSES = ["delivered"] * 4 + ["read"] * 4 + ["sent", "failed", "emailed", "dead"]


def seed(store: MongoStore, *, bookings: int, messages: int, days: int, patients: int
         ) -> dict[str, float]:
    rng = random.Random(42)  # noqa: S311 - benchmark data, reproducible
    start = datetime(END.year, END.month, END.day, tzinfo=UTC) - timedelta(days=days)
    span_s = days * 86400
    doctors = build_doctors(END)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    for d in doctors:
        d.calendar_token = f"bench-{d.id}"  # distinct: the unique sparse index counts nulls
        store.upsert_doctor(d)
    store.users.insert_many([{"_id": f"u{i}", "whatsapp": f"62813{i:08d}", "role": "patient",
                              "email": f"u{i}@bench.local"} for i in range(patients)])
    docs = []
    for i in range(bookings):
        created = start + timedelta(seconds=rng.randrange(span_s))
        appt = created + timedelta(minutes=rng.randrange(60, 14 * 24 * 60))
        status = rng.choice(STATUSES)
        docs.append({"_id": f"b{i}", "ref": f"R{i:07d}",
                     "patient_id": f"u{rng.randrange(patients)}",
                     "doctor_id": rng.choice(doctors).id, "start": appt,
                     "end": appt + timedelta(minutes=30), "status": status,
                     "source": rng.choice(SOURCES), "created_at": created,
                     "updated_at": created, "history": [],
                     "rescheduled_from": f"b{i - 1}" if status == "confirmed" and i % 7 == 0
                     else None})
    store.bookings.insert_many(docs)
    timings["insert bookings"] = time.perf_counter() - t
    t = time.perf_counter()
    chunk: list[dict[str, Any]] = []
    for i in range(messages):
        who = rng.randrange(patients * 2)        # half the senders are not registered users
        at = start + timedelta(seconds=rng.randrange(span_s))
        inbound = i % 2 == 0
        chunk.append({"_id": f"m{i}", "wa_id": f"62813{who:08d}",
                      "direction": "in" if inbound else "out", "text": "x", "type": "text",
                      "intent": rng.choice(INTENTS) if inbound else None,
                      "confidence": rng.random() if inbound else None, "entities": [],
                      "message_id": f"w{i}", "at": at,
                      "latency_ms": None if inbound
                      else round(rng.lognormvariate(6.5, 0.5), 1),  # as bot/chatlog.py stores
                      "fallback": inbound and rng.random() < 0.08, "handoff": False,
                      "language": "id"})
        if len(chunk) == 50_000:
            store.chat_logs.insert_many(chunk)
            chunk = []
    if chunk:
        store.chat_logs.insert_many(chunk)
    store.outbox.insert_many([{"_id": f"o{i}", "kind": "appointment_reminder",
                               "dedupe_key": f"o{i}", "booking_id": f"b{i}",
                               "doctor_id": docs[i]["doctor_id"],
                               "status": rng.choice(REMINDER_STATUSES), "attempts": 1,
                               "created_at": start + timedelta(seconds=rng.randrange(span_s))}
                              for i in range(bookings // 2)])
    timings["insert chat + outbox"] = time.perf_counter() - t
    return timings


def timed(fn: Callable[[], Any], repeat: int = 1) -> float:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def parts(store: MongoStore, query: AnalyticsQuery) -> dict[str, Callable[[], Any]]:
    s, e, tz = query.utc_start, query.utc_end, query.tz
    return {
        "new bookings (per day, patients)": lambda: q.new_booking_facets(store, s, e, tz, None),
        "appointment facets": lambda: q.appointment_facets(store, s, e, tz, None),
        "lead-time median": lambda: q.lead_time_ms_at(store, s, e, None, 1000),
        "chat facets (all chat metrics)": lambda: q.chat_facets(store, s, e, tz, 10),
        "WhatsApp users (conversion join)": lambda: q.whatsapp_users(store),
        "reminders": lambda: q.reminder_status_counts(store, s, e, None),
    }


async def run(args: argparse.Namespace) -> None:
    if args.mongomock_as_shipped:   # for comparison: without booking/mongomock_cursor.py
        mongomock_cursor._APPLIED = True
    # A real MongoDB when given (a throw-away database, dropped at the end), else mongomock.
    store = MongoStore.from_url(args.mongodb_url,
                                db_name=f"bench_{uuid.uuid4().hex[:8]}" if args.mongodb_url
                                else None)
    try:
        await measure(store, args)
    finally:
        if not store.is_mock:
            store.client.drop_database(store.db.name)
        store.close()


async def measure(store: MongoStore, args: argparse.Namespace) -> None:
    print(f"seeding {args.bookings:,} bookings, {args.messages:,} messages over "
          f"{args.days} days ...", flush=True)
    for name, secs in seed(store, bookings=args.bookings, messages=args.messages,
                           days=args.days, patients=args.patients).items():
        print(f"  {name}: {secs:.1f} s", flush=True)
    # Indexes after the data: mongomock checks unique indexes by scanning on every insert.
    t = time.perf_counter()
    store.ensure_indexes()
    q.ensure_analytics_indexes(store)
    print(f"  indexes: {time.perf_counter() - t:.1f} s", flush=True)
    ns = f"bench:{uuid.uuid4().hex[:8]}:"
    redis = Redis.from_url(REDIS_URL)
    service = AnalyticsService(Store(store), Coordinator(redis, namespace=ns), cache_ttl_s=60)
    ranges = [("full range", END - timedelta(days=args.days - 1))]
    if args.last30:
        ranges.append(("last 30 days", END - timedelta(days=29)))
    try:
        for label, first in ranges:
            query = AnalyticsQuery.model_validate({"from": first.isoformat(),
                                                   "to": END.isoformat()})
            t, cpu = time.perf_counter(), time.process_time()
            result = await service.metrics(query)
            cold, cold_cpu = time.perf_counter() - t, time.process_time() - cpu
            t = time.perf_counter()
            cached = await service.metrics(query)
            warm = time.perf_counter() - t
            assert cached["cached"] and not result["cached"]
            m = result["metrics"]
            print(f"{label} ({first}..{END}): full metrics call {cold:.1f} s "
                  f"(CPU {cold_cpu:.1f} s), "
                  f"cached {warm * 1000:.1f} ms; new bookings "
                  f"{m['bookings_per_day']['value']['total']:,}, appointments "
                  f"{m['cancellation_rate']['value']['appointments']:,}, messages "
                  f"{m['messages_per_day']['value']['total_in']:,} in / "
                  f"{m['messages_per_day']['value']['total_out']:,} out", flush=True)
            if args.parts:
                for name, fn in parts(store, query).items():
                    print(f"    {name}: {timed(fn):.1f} s", flush=True)
    finally:
        keys = [k async for k in redis.scan_iter(match=ns + "*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
    fixed = "" if args.mongomock_as_shipped else " + cursor fix"
    backend = f"mongomock {mongomock.__version__}{fixed}" if store.is_mock else \
        "MongoDB " + str(store.client.server_info().get("version"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {backend}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--parts", action="store_true", help="time each pipeline too")
    parser.add_argument("--mongodb-url", help="run on this MongoDB (a temporary database)")
    parser.add_argument("--last30", action="store_true", help="also the last 30 days")
    parser.add_argument("--mongomock-as-shipped", action="store_true",
                        help="without the cursor fix (its O(n^2) iteration), to compare")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
