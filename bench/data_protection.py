"""Benchmark: the cost of field-level encryption, sealed and plain stores in one run.

    .venv/bin/python -m bench.data_protection [--bookings 300] [--messages 2000] [--rounds 4]

Same process, same data, same mongomock and the same real Redis (TEST_REDIS_URL, else a
private redis-server; fakeredis when none is installed), alternating a sealed store (the
product) and a plain one (the store with its sealed views bypassed, for this comparison
only). Paths measured:

- crypto primitives: seal / open of a 40-character value, blind index;
- WhatsApp patient registration (upsert by number) and lookup by number;
- booking through the service (locks, slot index, outbox in the booking document);
- listing a patient's bookings (50) and a doctor's day;
- webhook persistence (inbox put + finish) and a chat-log batch (in + out);
- the chat analytics pass over the messages (aggregation: no decryption).

Prints a Markdown table; docs/data-protection.md records the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.core import make_redis
from booking import demo
from booking.crypto import Keyring
from booking.locks import Coordinator
from booking.models import Role, User
from booking.service import Booked, BookingService, Policy
from booking.store import MongoStore, Store
from booking.store_analytics import chat_facets
from booking.store_chat import inbox_finish, inbox_put, insert_chat_logs
from booking.store_sealed import SPECS, Sealer
from notify.rules import BookingNotices

NOW = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


def plain(ms: MongoStore) -> MongoStore:
    """The comparison store: its collections as the driver's own (no sealing)."""
    ms.db = ms.raw_db
    for name in ("users", "bookings", "outbox", "chat_logs"):
        setattr(ms, name, ms.raw_db[name])
    return ms


def stats(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def sync_samples(fn: Callable[[int], Any], n: int) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def async_samples(fn: Callable[[int], Awaitable[Any]], n: int) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        await fn(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def run_store(kind: str, bookings: int, messages: int, redis: Any
                    ) -> dict[str, list[float]]:
    ms = MongoStore.from_url(None, db_name=f"bench_{kind}_{uuid.uuid4().hex[:6]}")
    if kind == "plain":
        plain(ms)
    ms.ensure_indexes()
    demo.load(ms, password_hash="x", now=NOW, bookings_per_doctor=0)
    store = Store(ms)
    ns = f"bench:{uuid.uuid4().hex[:8]}:"
    service = BookingService(store, Coordinator(redis, namespace=ns), notices=BookingNotices(),
                             policy=Policy(max_upcoming=1000), clock=lambda: NOW)
    out: dict[str, list[float]] = {}

    def number(i: int) -> str:
        return f"62812{kind == 'plain':d}{i:07d}"

    out["register WhatsApp patient (upsert by number)"] = sync_samples(
        lambda i: ms.upsert_whatsapp_patient(number(i), f"Pasien Nomor {i}", "id"), bookings)
    out["find user by WhatsApp number"] = sync_samples(
        lambda i: ms.find_user(whatsapp=number(i)), bookings)

    doctors, _ = ms.find_doctors()
    doctor = max(doctors, key=lambda d: len(d.weekly))
    doctor = doctor.model_copy(update={"horizon_days": 120, "min_notice_minutes": 0})
    ms.upsert_doctor(doctor)
    slots = await service.availability(doctor, NOW, NOW + timedelta(days=120))
    patients = [ms.find_user(whatsapp=number(i)) for i in range(bookings)]

    async def book(i: int) -> None:
        patient = patients[i]
        assert patient is not None
        result = await service.book(patient.id, doctor.id, slots[i].start)
        assert isinstance(result, Booked)

    out["book (service: locks, slot index, outbox)"] = await async_samples(book, bookings)
    heavy = ms.insert_user(User(name="Pasien Banyak", whatsapp=number(bookings + 1),
                                role=Role.patient))
    for i in range(50):  # one patient with 50 bookings (history included)
        await service.book(heavy.id, doctor.id, slots[bookings + i].start)
    out["list a patient's 50 bookings"] = await async_samples(
        lambda i: store.bookings.find(patient_id=heavy.id), 100)
    out["list a doctor's bookings (one day)"] = await async_samples(
        lambda i: store.bookings.find(doctor_id=doctor.id, start_from=slots[0].start,
                                      start_to=slots[0].start + timedelta(days=1)), 100)

    def webhook(i: int) -> None:
        key = f"m:wamid.{kind}.{i}"
        inbox_put(ms, {"_id": key, "seq": i, "lane": number(i % 50), "owner": "bench",
                       "owner_until": NOW, "action": "message", "status_event": None,
                       "wa_id": number(i % 50), "received_at": NOW, "status": "pending",
                       "event": {"waId": number(i % 50), "senderName": f"Pasien {i}",
                                 "text": "halo dok, mau booking dokter gigi besok pagi",
                                 "type": "text", "id": key}})
        inbox_finish(ms, key, "done", NOW)

    out["webhook persisted (inbox put + finish)"] = sync_samples(webhook, messages // 4)

    def chat(i: int) -> None:
        at = NOW + timedelta(seconds=i)
        insert_chat_logs(ms, [
            {"_id": f"in{i}", "wa_id": number(i % 50), "direction": "in",
             "text": "halo dok, mau booking dokter gigi besok pagi", "type": "text",
             "intent": "book_appointment", "confidence": 0.9, "entities": [],
             "message_id": f"w{i}", "at": at, "latency_ms": None, "fallback": False,
             "handoff": False, "language": "id"},
            {"_id": f"out{i}", "wa_id": number(i % 50), "direction": "out",
             "text": "Baik, dokter gigi di kota mana?", "type": "text", "intent": None,
             "confidence": None, "entities": [], "message_id": f"o{i}", "at": at,
             "latency_ms": 120.0, "fallback": False, "handoff": False, "language": "id"}])

    out["chat-log batch (in + out message)"] = sync_samples(chat, messages // 2)
    out[f"chat analytics pass ({messages} messages)"] = sync_samples(
        lambda i: chat_facets(ms, NOW - timedelta(days=1), NOW + timedelta(days=1),
                              "Asia/Jakarta", 10), 5)
    return out


def crypto_rows() -> list[tuple[str, str, str]]:
    """CPU cost without I/O: the primitives, and whole documents as the store seals and
    opens them (what each read or write adds, free of the shared machine's I/O noise)."""
    ring = Keyring.generate()
    value = "Budi Santoso bin Haji Abdul Rahman, Jkt"
    sealed = ring.seal(value, "users", "name", "u1")
    users = Sealer("users", SPECS["users"], ring)
    bookings = Sealer("bookings", SPECS["bookings"], ring)
    chat = Sealer("chat_logs", SPECS["chat_logs"], ring)
    user = {"_id": "u1", "name": value, "email": "budi@example.id", "whatsapp": "6281234567890",
            "role": "patient", "language": "id", "token_version": 0}
    history = [{"at": NOW, "action": a, "actor": "u1", "status": "confirmed", "note": n}
               for a, n in (("booked", ""), ("rescheduled", ""), ("cancelled", "sakit"))]
    booking = {"_id": "b1", "ref": "ABC-DEF", "patient_id": "u1", "doctor_id": "d1",
               "start": NOW, "end": NOW, "status": "cancelled", "history": history,
               "cancel_reason": "sakit"}
    log = {"_id": "c1", "wa_id": "6281234567890", "direction": "in", "at": NOW,
           "text": "halo dok, mau booking dokter gigi besok pagi", "entities": []}
    sealed_user, sealed_booking, sealed_log = (users.seal_doc(user), bookings.seal_doc(booking),
                                               chat.seal_doc(log))
    rows = []
    for label, fn in (("seal one value (AES-256-GCM)",
                       lambda: ring.seal(value, "users", "name", "u1")),
                      ("open one value", lambda: ring.open(sealed, "users", "name", "u1")),
                      ("blind index (HMAC-SHA256)",
                       lambda: ring.blind_index("6281234567890", "phone")),
                      ("seal a user document (2 indexes, 3 values)",
                       lambda: users.seal_doc(user)),
                      ("open a user document", lambda: users.open_doc(dict(sealed_user))),
                      ("open a booking (3 history entries, 2 sealed texts)",
                       lambda: bookings.open_doc(dict(sealed_booking))),
                      ("seal a chat-log message", lambda: chat.seal_doc(log)),
                      ("open a chat-log message", lambda: chat.open_doc(dict(sealed_log)))):
        n = 20_000
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        rows.append((label, f"{(time.perf_counter() - t0) / n * 1e6:.1f} µs", ""))
    return rows


async def main(bookings: int, messages: int, rounds: int) -> str:
    redis, redis_kind = await make_redis()
    pooled: dict[str, dict[str, list[float]]] = {"plain": {}, "sealed": {}}
    for r in range(rounds):  # alternating which goes first: a busy machine hits both
        for kind in (("plain", "sealed") if r % 2 == 0 else ("sealed", "plain")):
            for label, samples in (await run_store(kind, bookings, messages, redis)).items():
                pooled[kind].setdefault(label, []).extend(samples)
    await redis.aclose()
    results = {kind: {label: stats(s) for label, s in by.items()}
               for kind, by in pooled.items()}
    lines = [f"Python {platform.python_version()}, {platform.machine()}, mongomock, "
             f"{redis_kind}; {bookings} bookings, {messages} chat messages, {rounds} "
             "alternating rounds per store.", "",
             "| path | plain median / p95 | sealed median / p95 | cost |",
             "|---|---|---|---|"]
    for label, (pm, pp) in results["plain"].items():
        sm, sp = results["sealed"][label]
        lines.append(f"| {label} | {pm:.2f} / {pp:.2f} ms | {sm:.2f} / {sp:.2f} ms | "
                     f"{(sm - pm):+.2f} ms ({(sm / pm - 1) * 100:+.0f} %) |")
    lines += ["", "| CPU only (no I/O) | per call |", "|---|---|"]
    lines += [f"| {label} | {v} |" for label, v, _ in crypto_rows()]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    print(asyncio.run(main(args.bookings, args.messages, args.rounds)))  # noqa: T201
