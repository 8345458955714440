"""A small hand-built data set whose every metric is worked out by hand in test_metrics.py.

The week of Monday 7 .. Sunday 13 December 2026, clinic time WIB (UTC+7) unless stated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from analytics.query import AnalyticsQuery
from analytics.service import AnalyticsService
from booking.locks import Coordinator
from booking.models import Booking, Doctor, Role, User, WeeklyRule
from booking.store import MongoStore, Store
from booking.store_analytics import ensure_analytics_indexes

WIB = ZoneInfo("Asia/Jakarta")
WA = {"p1": "6281100000001", "p2": "6281100000002", "p3": "6281100000003",
      "p4": "6281100000004", "stranger": "6289900000009"}
PATIENT_NAMES = {"p1": "Ani Wijaya", "p2": "Budi Hartono", "p3": "Citra Lestari",
                 "p4": "Dodi Saputra"}


def L(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A WIB wall-clock time in December 2026, as UTC."""
    return datetime(2026, 12, day, hour, minute, second, tzinfo=WIB).astimezone(UTC)


def week_query(**kw: Any) -> AnalyticsQuery:
    return AnalyticsQuery.model_validate({"from": "2026-12-07", "to": "2026-12-13", **kw})


def _doctor(doc_id: str, name: str, specialty: str, city: str, tz: str) -> Doctor:
    return Doctor(id=doc_id, name=name, specialty=specialty, city=city, clinic="Klinik Uji",
                  timezone=tz, weekly=[WeeklyRule(weekday=d, start=time(8), end=time(17))
                                       for d in range(6)])


DOCTORS = [_doctor("dA", "dr. Alpha", "general", "Jakarta", "Asia/Jakarta"),
           _doctor("dB", "dr. Beta, Sp.A", "pediatrics", "Jakarta", "Asia/Jakarta"),
           _doctor("dC", "dr. Gamma", "general", "Makassar", "Asia/Makassar")]

# id: (doctor, patient, source, created (WIB), start (WIB), status, extra)
BOOKINGS: dict[str, tuple[str, str, str, datetime, datetime, str, dict[str, Any]]] = {
    "b1": ("dA", "p1", "whatsapp", L(7, 9), L(8, 10), "completed", {}),
    "b2": ("dA", "p3", "web", L(7, 20), L(9, 9), "cancelled", {}),
    "b3": ("dA", "p3", "whatsapp", L(8, 8), L(8, 14), "no_show", {}),
    "b4": ("dB", "p1", "admin", L(9, 10), L(10, 10), "rescheduled", {"rescheduled_to": "b5"}),
    "b5": ("dB", "p1", "admin", L(9, 12), L(11, 11), "confirmed", {"rescheduled_from": "b4"}),
    "b6": ("dC", "p4", "mobile", L(12, 23, 30), L(15, 9), "confirmed", {}),
    "b7": ("dB", "p2", "whatsapp", L(1, 10), L(12, 16), "completed", {}),
    "b8": ("dA", "p3", "web", L(13, 23), L(20, 9), "confirmed", {}),
    "b9": ("dA", "p4", "admin", L(7, 0, 30), L(7, 9), "completed", {}),
    "b10": ("dC", "p2", "whatsapp", L(6, 23), L(13, 15), "cancelled", {}),
    "b11": ("dB", "p4", "whatsapp", L(14, 0), L(16, 9), "confirmed", {}),
}

# (id, wa key, direction, at, intent, fallback, latency_ms, extra)
MESSAGES: list[tuple[str, str, str, datetime, str | None, bool, int | None, dict[str, Any]]] = [
    ("m1", "p1", "in", L(7, 8), "book_appointment", False, None,
     {"entities": [{"entity": "specialty", "value": "umum"}]}),
    ("m2", "p1", "out", L(7, 8, 0, 1), None, False, 800, {}),
    ("m3", "p1", "in", L(7, 8, 5), "inform", False, None,
     {"entities": [{"entity": "person_name", "value": "Ani Wijaya"}]}),
    ("m4", "p1", "out", L(7, 8, 5, 1), None, False, 1200, {}),
    ("m5", "p2", "in", L(8, 21), "nlu_fallback", True, None, {}),
    ("m6", "p2", "out", L(8, 21, 0, 1), None, False, 400, {}),
    ("m7", "stranger", "in", L(9, 10), "greet", False, None, {}),
    ("m8", "stranger", "out", L(9, 10, 0, 2), None, False, 2000, {}),
    ("m9", "stranger", "in", L(9, 10, 1), "book_appointment", False, None, {}),
    ("m10", "stranger", "out", L(9, 10, 1, 1), None, False, None, {"type": "template"}),
    ("m11", "p2", "in", L(13, 23, 30), "cancel_booking", False, None, {}),
    ("m12", "p2", "out", L(13, 23, 30, 2), None, False, 600, {}),
    ("m13", "p1", "in", L(6, 20), "greet", False, None, {}),
    ("m14", "p1", "in", L(14, 0), "greet", False, None, {}),
    ("m15", "p2", "in", L(10, 12), None, False, None, {"type": "image"}),
]

# (id, kind, status, created)
OUTBOX: list[tuple[str, str, str, datetime]] = [
    ("r1", "appointment_reminder", "delivered", L(7, 10)),
    ("r2", "appointment_reminder", "delivered", L(8, 10)),
    ("r3", "appointment_reminder", "read", L(9, 10)),
    ("r4", "appointment_reminder", "sent", L(10, 10)),
    ("r5", "appointment_reminder", "failed", L(11, 10)),
    ("r6", "appointment_reminder", "emailed", L(11, 11)),
    ("r7", "appointment_reminder", "sending", L(13, 22)),
    ("r8", "appointment_reminder", "pending", L(13, 23)),
    ("r9", "appointment_reminder", "delivered", L(6, 10)),      # before the range
    ("c1", "booking_confirmation", "delivered", L(8, 10)),      # not a reminder
]


@dataclass
class Seeded:
    store: MongoStore
    admin: User
    admin_password: str


def seed(store: MongoStore, *, admin_password_hash: str | None = None) -> User:
    ensure_analytics_indexes(store)
    for doctor in DOCTORS:
        store.upsert_doctor(doctor)
    # Every user has an email and all but one a WhatsApp number: the core's unique sparse
    # indexes index null, so two users without one would collide on a real MongoDB.
    for key, name in PATIENT_NAMES.items():
        store.insert_user(User(id=key, name=name, whatsapp=WA[key], role=Role.patient,
                               email=f"{key}@example.com"))
    admin = User(id="admin-1", name="Admin", email="admin@test.klinik.id", role=Role.admin,
                 password_hash=admin_password_hash)
    store.insert_user(admin)
    for bid, (doc, pat, source, created, start, status, extra) in BOOKINGS.items():
        store.insert_booking(Booking(
            id=bid, ref=f"REF{bid.upper()}", patient_id=pat, doctor_id=doc, start=start,
            end=start + timedelta(minutes=30), status=status, source=source, created_at=created,
            updated_at=created + timedelta(hours=1), cancel_reason="sakit" if
            status == "cancelled" else None, **extra))
    store.chat_logs.insert_many([
        {"_id": mid, "wa_id": WA[who], "direction": direction, "text": f"pesan {mid}",
         "type": extra.get("type", "text"), "intent": intent,
         "confidence": 0.9 if intent else None, "entities": extra.get("entities", []),
         "message_id": f"wamid.{mid}", "at": at, "latency_ms": latency, "fallback": fallback,
         "handoff": False, "language": "id"}
        for mid, who, direction, at, intent, fallback, latency, extra in MESSAGES])
    store.outbox.insert_many([
        {"_id": oid, "kind": kind, "dedupe_key": f"{oid}:key",
         # r5 and r6 remind of b10 (dC, Makassar); the others of b1 (dA, Jakarta)
         "booking_id": "b10" if oid in ("r5", "r6") else "b1",
         "doctor_id": "dC" if oid in ("r5", "r6") else "dA",
         "to": WA["p1"], "email": "p1@example.com", "language": "id",
         "template": "appointment_reminder_v1", "params": {"name": "Ani Wijaya"},
         "text": "Pengingat untuk Ani Wijaya", "status": status, "attempts": 1,
         "next_attempt_at": created, "created_at": created,
         "last_error": "failed for +6281100000001" if status == "failed" else None}
        for oid, kind, status, created in OUTBOX])
    return admin


@pytest.fixture
def seeded(sync_store: MongoStore) -> MongoStore:
    seed(sync_store)
    return sync_store


@pytest.fixture
async def analytics(seeded: MongoStore, coordinator: Coordinator
                    ) -> AsyncIterator[AnalyticsService]:
    yield AnalyticsService(Store(seeded), coordinator, cache_ttl_s=60)
