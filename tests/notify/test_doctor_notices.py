"""Doctors hear of every change of their bookings (new, cancelled, moved, no-show), whether the
patient or staff made it: through the outbox, first name only, once per event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking.models import Booking, Doctor, Role, User
from booking.notices import Notice
from booking.service import Actor, Booked, BookingService
from booking.store import MongoStore
from tests.conftest import Clock, make_doctor
from tests.notify.test_dispatcher import chat, make  # noqa: F401 - fixtures

JKT = ZoneInfo("Asia/Jakarta")
DOCTOR_WA = "6281299990001"


def wib(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 12, day, hh, mm, tzinfo=JKT).astimezone(UTC)


@pytest.fixture
def doctor(sync_store: MongoStore) -> Doctor:
    doc = make_doctor(whatsapp=DOCTOR_WA)
    sync_store.upsert_doctor(doc)
    return doc


@pytest.fixture
def patient(sync_store: MongoStore) -> User:
    user = User(id="pat-full", name="Siti Rahmawati Putri", whatsapp="6281200000999",
                role=Role.patient)
    sync_store.insert_user(user)
    return user


async def book(service: BookingService, patient: User, doctor: Doctor, start: datetime
               ) -> Booking:
    result = await service.book(patient.id, doctor.id, start)
    assert isinstance(result, Booked), result
    return result.booking


def doctor_entries(sync_store: MongoStore, kind: str) -> list[dict[str, Any]]:
    return list(sync_store.outbox.find({"kind": kind}))


@pytest.mark.parametrize("by", ["patient", "admin"])
async def test_a_cancellation_tells_the_doctor(service: BookingService, sync_store: MongoStore,
                                               doctor: Doctor, patient: User, by: str) -> None:
    booking = await book(service, patient, doctor, wib(8, 9))
    actor = Actor(patient.id, Role.patient) if by == "patient" else Actor("admin", Role.admin)
    await service.cancel(booking.id, actor=actor)
    [entry] = doctor_entries(sync_store, "doctor_booking_cancelled")
    assert entry["to"] == DOCTOR_WA and entry["doctor_id"] == doctor.id
    assert entry["dedupe_key"] == f"doctor_booking_cancelled:{booking.id}"
    assert entry["params"]["patient"] == "Siti"
    assert entry["text"] == (f"Booking dibatalkan: Siti, Selasa, 8 Desember 2026, 09:00 WIB "
                             f"(kode {booking.ref}).")
    assert "Rahmawati" not in entry["text"]
    # the patient is told as before
    assert len(doctor_entries(sync_store, "booking_cancelled")) == 1


async def test_a_move_tells_the_doctor_the_new_time(service: BookingService,
                                                    sync_store: MongoStore, doctor: Doctor,
                                                    patient: User) -> None:
    booking = await book(service, patient, doctor, wib(8, 9))
    result = await service.reschedule(booking.id, wib(9, 14), actor=Actor("admin", Role.admin))
    assert isinstance(result, Booked)
    [entry] = doctor_entries(sync_store, "doctor_booking_rescheduled")
    assert entry["booking_id"] == result.booking.id and entry["to"] == DOCTOR_WA
    assert "Rabu, 9 Desember 2026, 14:00 WIB" in entry["text"]


async def test_a_no_show_marked_by_staff_tells_the_doctor_but_not_their_own(
        service: BookingService, sync_store: MongoStore, doctor: Doctor, patient: User,
        clock: Clock) -> None:
    first = await book(service, patient, doctor, wib(8, 9))
    second = await book(service, patient, doctor, wib(8, 11))
    clock.now = wib(8, 12)
    await service.mark_no_show(first.id, actor=Actor("admin", Role.admin))
    [entry] = doctor_entries(sync_store, "doctor_no_show")
    assert entry["booking_id"] == first.id
    doctor_user = User(id="user-doc", name=doctor.name, role=Role.doctor, doctor_id=doctor.id)
    sync_store.insert_user(doctor_user)
    await service.mark_no_show(second.id, actor=Actor(doctor_user.id, Role.doctor))
    assert len(doctor_entries(sync_store, "doctor_no_show")) == 1


async def test_replays_send_once(service: BookingService, sync_store: MongoStore,
                                 doctor: Doctor, patient: User) -> None:
    booking = await book(service, patient, doctor, wib(8, 9))
    cancelled = await service.cancel(booking.id, actor=Actor(patient.id, Role.patient))
    docs = service.notices.entries(Notice.doctor_booking_cancelled, cancelled, doctor, patient)
    assert await service.store.outbox.enqueue(docs) == 0  # same dedupe key: nothing new
    assert len(doctor_entries(sync_store, "doctor_booking_cancelled")) == 1


async def test_a_doctor_without_contact_gets_nothing(service: BookingService,
                                                     sync_store: MongoStore,
                                                     patient: User) -> None:
    quiet = make_doctor(id="doc-quiet")
    sync_store.upsert_doctor(quiet)
    booking = await book(service, patient, quiet, wib(8, 9))
    await service.cancel(booking.id, actor=Actor(patient.id, Role.patient))
    assert doctor_entries(sync_store, "doctor_booking_cancelled") == []


async def test_changes_within_minutes_reach_the_doctor_as_one_message(
        service: BookingService, sync_store: MongoStore, doctor: Doctor, patient: User,
        make: Any, sandbox: Any, clock: Clock) -> None:  # noqa: F811
    """Three changes in a row: held for a few minutes, then one WhatsApp with all three; every
    entry is recorded sent with the message's id (its delivery statuses reach them all)."""
    await service.store.chat.touch_inbound(DOCTOR_WA, clock.now, "dr", "id")  # in the window
    first = await book(service, patient, doctor, wib(8, 9))
    second = await book(service, patient, doctor, wib(8, 11))
    await service.cancel(first.id, actor=Actor(patient.id, Role.patient))
    result = await service.reschedule(second.id, wib(9, 14),
                                      actor=Actor(patient.id, Role.patient))
    assert isinstance(result, Booked)
    clock.advance(seconds=30)
    third = await book(service, patient, doctor, wib(10, 9))
    await service.cancel(third.id, actor=Actor("admin", Role.admin))
    dispatcher = make()
    await dispatcher.run_once()
    assert sandbox.sent_to(DOCTOR_WA) == [m for m in sandbox.sent_to(DOCTOR_WA)
                                          if "Pasien baru" in m["text"]]  # held back
    clock.advance(minutes=3)
    await dispatcher.run_once()
    changes = [m for m in sandbox.sent_to(DOCTOR_WA) if "Pasien baru" not in m["text"]]
    assert len(changes) == 1
    lines = changes[0]["text"].split("\n")
    assert lines[0] == "Perubahan jadwal (3):"
    assert [line.split(":")[0] for line in lines[1:]] == [
        "• Booking dibatalkan", "• Booking dipindah", "• Booking dibatalkan"]
    docs = list(sync_store.outbox.find({"batch": f"doctor:{doctor.id}"}))
    assert {d["status"] for d in docs} == {"sent"}
    assert len({d["provider_message_id"] for d in docs}) == 1
    assert sum(1 for d in docs if d.get("batched_into")) == 2
