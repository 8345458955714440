"""The booking service against the store (mongomock / real MongoDB) and the real Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.errors import (
    CutoffPassed,
    InvalidTransition,
    NotFound,
    PatientOverlap,
    SlotUnavailable,
)
from booking.locks import Coordinator
from booking.models import Booking, BookingStatus, Doctor, Role, User
from booking.service import Actor, Booked, BookingService, SlotTaken
from booking.store import MongoStore
from tests.conftest import Clock, make_doctor

JKT = ZoneInfo("Asia/Jakarta")


def wib(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 12, day, hh, mm, tzinfo=JKT).astimezone(UTC)


async def book_ok(service: BookingService, patient: User, doctor: Doctor, start: datetime
                  ) -> Booking:
    result = await service.book(patient.id, doctor.id, start)
    assert isinstance(result, Booked), result
    return result.booking


async def test_book_stores_confirmed_booking_with_ref_and_outbox(
        service: BookingService, sync_store: MongoStore, doctor: Doctor,
        patients: list[User]) -> None:
    booking = await book_ok(service, patients[0], doctor, wib(8, 9))
    stored = sync_store.get_booking(booking.id)
    assert stored.status == BookingStatus.confirmed
    assert stored.slot_key == f"{doctor.id}|2026-12-08T02:00Z"
    assert stored.end - stored.start == timedelta(minutes=30)
    assert len(stored.ref) == 7 and stored.ref[3] == "-"
    assert stored.outbox_pending == []
    outbox = list(sync_store.outbox.find({"booking_id": booking.id}))
    assert {o["kind"] for o in outbox} == {"booking_confirmation"}  # doctor has no contact
    assert outbox[0]["to"] == patients[0].whatsapp
    assert "Selasa, 8 Desember 2026" in outbox[0]["text"] and "09:00 WIB" in outbox[0]["text"]


async def test_doctor_with_whatsapp_is_notified(service: BookingService, sync_store: MongoStore,
                                                patients: list[User]) -> None:
    doc = make_doctor(id="doc-wa", whatsapp="081299990000")
    sync_store.upsert_doctor(doc)
    booking = await book_ok(service, patients[0], doc, wib(8, 9))
    kinds = {o["kind"]: o for o in sync_store.outbox.find({"booking_id": booking.id})}
    assert set(kinds) == {"booking_confirmation", "doctor_new_booking"}
    assert kinds["doctor_new_booking"]["to"] == "6281299990000"
    assert kinds["doctor_new_booking"]["params"]["patient"] == "Pasien"  # first name only


async def test_second_booking_of_same_slot_is_taken_with_alternatives(
        service: BookingService, doctor: Doctor, patients: list[User]) -> None:
    await book_ok(service, patients[0], doctor, wib(8, 9))
    result = await service.book(patients[1].id, doctor.id, wib(8, 9))
    assert isinstance(result, SlotTaken)
    assert [slot.start for _, slot in result.alternatives] == [wib(8, 9, 30), wib(8, 10),
                                                                wib(8, 10, 30)]


@pytest.mark.parametrize(("start", "message"), [
    (wib(7, 6), "past"),            # 06:00 WIB < now (07:00 WIB)
    (wib(7, 7, 30), "notice"),      # inside the 60 min notice
    (wib(8, 9, 15), "slots"),       # off the grid
    (wib(8, 12), "slots"),          # lunch gap
    (wib(12, 9), "slots"),          # Saturday: no hours
])
async def test_unbookable_times_are_refused(service: BookingService, doctor: Doctor,
                                            patients: list[User], start: datetime,
                                            message: str) -> None:
    with pytest.raises(SlotUnavailable):
        await service.book(patients[0].id, doctor.id, start)


async def test_beyond_horizon_refused(service: BookingService, doctor: Doctor,
                                      patients: list[User]) -> None:
    with pytest.raises(SlotUnavailable, match="far"):
        await service.book(patients[0].id, doctor.id, wib(7, 9) + timedelta(days=35))


async def test_patient_cannot_hold_two_overlapping_bookings(
        service: BookingService, sync_store: MongoStore, doctor: Doctor,
        patients: list[User]) -> None:
    other = make_doctor(id="doc-test-2", name="dr. Test Dua")
    sync_store.upsert_doctor(other)
    await book_ok(service, patients[0], doctor, wib(8, 9))
    with pytest.raises(PatientOverlap):
        await service.book(patients[0].id, other.id, wib(8, 9))


async def test_hold_hides_slot_from_others_and_is_consumed(
        service: BookingService, coordinator: Coordinator, doctor: Doctor,
        patients: list[User]) -> None:
    hold = await service.hold(patients[0].id, doctor.id, wib(8, 9))
    assert not isinstance(hold, SlotTaken)
    others_view = await service.day_slots(doctor, wib(8, 9).astimezone(JKT).date(),
                                          patient_id=patients[1].id)
    assert wib(8, 9) not in [s.start for s in others_view]
    own_view = await service.day_slots(doctor, wib(8, 9).astimezone(JKT).date(),
                                       patient_id=patients[0].id)
    assert wib(8, 9) in [s.start for s in own_view]
    taken = await service.book(patients[1].id, doctor.id, wib(8, 9))
    assert isinstance(taken, SlotTaken) and taken.reason == "held"
    await book_ok(service, patients[0], doctor, wib(8, 9))
    assert await coordinator.hold_owner(doctor.id, wib(8, 9)) is None


async def test_cancel_frees_the_slot_and_writes_notice(
        service: BookingService, sync_store: MongoStore, doctor: Doctor,
        patients: list[User]) -> None:
    booking = await book_ok(service, patients[0], doctor, wib(8, 9))
    cancelled = await service.cancel(booking.id, actor=Actor(patients[0].id, Role.patient),
                                     reason="sakit")
    assert cancelled.status == BookingStatus.cancelled and cancelled.slot_key is None
    assert cancelled.history[-1].action == "cancelled"
    assert sync_store.outbox.count_documents({"kind": "booking_cancelled"}) == 1
    again = await book_ok(service, patients[1], doctor, wib(8, 9))
    assert again.slot_key == booking.slot_key


async def test_cancel_cutoff_for_patients_not_staff(service: BookingService, clock: Clock,
                                                    doctor: Doctor, patients: list[User]) -> None:
    booking = await book_ok(service, patients[0], doctor, wib(8, 9))
    clock.now = wib(8, 7, 30)  # 1.5 h before: inside the 2 h cut-off
    with pytest.raises(CutoffPassed):
        await service.cancel(booking.id, actor=Actor(patients[0].id, Role.patient))
    done = await service.cancel(booking.id, actor=Actor("admin-1", Role.admin))
    assert done.status == BookingStatus.cancelled


async def test_other_patient_cannot_see_or_cancel(service: BookingService, doctor: Doctor,
                                                  patients: list[User]) -> None:
    booking = await book_ok(service, patients[0], doctor, wib(8, 9))
    intruder = Actor(patients[1].id, Role.patient)
    with pytest.raises(NotFound):
        await service.get_booking(booking.id, intruder)
    with pytest.raises(NotFound):
        await service.cancel(booking.id, actor=intruder)
    with pytest.raises(NotFound):
        await service.reschedule(booking.id, wib(8, 10), actor=intruder)


async def test_reschedule_moves_and_links(service: BookingService, sync_store: MongoStore,
                                          doctor: Doctor, patients: list[User]) -> None:
    booking = await book_ok(service, patients[0], doctor, wib(8, 9))
    result = await service.reschedule(booking.id, wib(9, 14),
                                      actor=Actor(patients[0].id, Role.patient))
    assert isinstance(result, Booked)
    old = sync_store.get_booking(booking.id)
    assert old.status == BookingStatus.rescheduled and old.slot_key is None
    assert old.rescheduled_to == result.booking.id
    assert result.booking.rescheduled_from == booking.id
    assert result.booking.start == wib(9, 14)
    assert sync_store.outbox.count_documents({"kind": "booking_rescheduled",
                                              "booking_id": result.booking.id}) == 1
    # the old time is free again
    assert wib(8, 9) in [s.start for s in await service.day_slots(
        doctor, wib(8, 9).astimezone(JKT).date())]


async def test_reschedule_losing_the_race_leaves_original_untouched(
        service: BookingService, sync_store: MongoStore, doctor: Doctor,
        patients: list[User]) -> None:
    mine = await book_ok(service, patients[0], doctor, wib(8, 9))
    await book_ok(service, patients[1], doctor, wib(8, 10))
    before = sync_store.get_booking(mine.id)
    result = await service.reschedule(mine.id, wib(8, 10),
                                      actor=Actor(patients[0].id, Role.patient))
    assert isinstance(result, SlotTaken)
    after = sync_store.get_booking(mine.id)
    assert after == before
    assert sync_store.bookings.count_documents({"patient_id": patients[0].id}) == 1


async def test_reschedule_of_cancelled_booking_refused(service: BookingService, doctor: Doctor,
                                                       patients: list[User]) -> None:
    actor = Actor(patients[0].id, Role.patient)
    booking = await book_ok(service, patients[0], doctor, wib(8, 9))
    await service.cancel(booking.id, actor=actor)
    with pytest.raises(InvalidTransition):
        await service.reschedule(booking.id, wib(8, 10), actor=actor)
    with pytest.raises(InvalidTransition):
        await service.cancel(booking.id, actor=actor)


async def test_idempotency_key_replays_instead_of_double_booking(
        service: BookingService, sync_store: MongoStore, doctor: Doctor,
        patients: list[User]) -> None:
    first = await service.book(patients[0].id, doctor.id, wib(8, 9), idempotency_key="k-1")
    again = await service.book(patients[0].id, doctor.id, wib(8, 9), idempotency_key="k-1")
    assert isinstance(first, Booked) and isinstance(again, Booked)
    assert again.replayed and again.booking.id == first.booking.id
    assert sync_store.bookings.count_documents({}) == 1


async def test_no_show_only_after_start_and_not_by_patient(
        service: BookingService, clock: Clock, doctor: Doctor, patients: list[User]) -> None:
    booking = await book_ok(service, patients[0], doctor, wib(8, 9))
    admin = Actor("admin", Role.admin)
    with pytest.raises(InvalidTransition):
        await service.mark_no_show(booking.id, actor=admin)
    clock.now = wib(8, 9, 40)
    with pytest.raises(NotFound):
        await service.mark_no_show(booking.id, actor=Actor(patients[0].id, Role.patient))
    marked = await service.mark_no_show(booking.id, actor=admin)
    assert marked.status == BookingStatus.no_show


async def test_complete_past_marks_ended_bookings(service: BookingService, clock: Clock,
                                                  doctor: Doctor, patients: list[User]) -> None:
    first = await book_ok(service, patients[0], doctor, wib(8, 9))
    later = await book_ok(service, patients[1], doctor, wib(8, 11))
    clock.now = wib(8, 10)
    assert await service.complete_past() == 1
    assert (await service.get_booking(first.id, Actor.system())).status == "completed"
    assert (await service.get_booking(later.id, Actor.system())).status == "confirmed"


async def test_earliest_across_doctors(service: BookingService, sync_store: MongoStore,
                                       doctor: Doctor, patients: list[User]) -> None:
    makassar = make_doctor(id="doc-mks", name="dr. Makassar", city="Makassar",
                           timezone="Asia/Makassar")
    sync_store.upsert_doctor(makassar)
    # Monday 7 Dec, now = 00:00 UTC = 07:00 WIB = 08:00 WITA; notice 60 min, so
    # Makassar opens first (09:00 WITA = 01:00 UTC); at 02:00 UTC both are free.
    found = await service.earliest([doctor, makassar], limit=4)
    utc = [datetime(2026, 12, 7, h, m, tzinfo=UTC) for h, m in ((1, 0), (1, 30), (2, 0), (2, 0))]
    assert [(d.id, s.start) for d, s in found] == [
        ("doc-mks", utc[0]), ("doc-mks", utc[1]), ("doc-mks", utc[2]), ("doc-test-1", utc[3])]


async def test_flush_pending_outbox_recovers_a_crash(service: BookingService, clock: Clock,
                                                     sync_store: MongoStore, doctor: Doctor,
                                                     patients: list[User]) -> None:
    booking = await book_ok(service, patients[0], doctor, wib(8, 9))
    # simulate a crash after the booking write, before the outbox copy
    sync_store.outbox.delete_many({})
    sync_store.bookings.update_one({"_id": booking.id},
                                   {"$set": {"outbox_pending": ["booking_confirmation"]}})
    clock.advance(minutes=5)
    assert await service.flush_pending_outbox() == 1
    assert await service.flush_pending_outbox() == 0
    assert sync_store.outbox.count_documents({"booking_id": booking.id}) == 1


async def test_retried_confirmation_by_the_same_patient_returns_the_booking(
        service: BookingService, sync_store: MongoStore, doctor: Doctor,
        patients: list[User]) -> None:
    first = await book_ok(service, patients[0], doctor, wib(8, 9))
    again = await service.book(patients[0].id, doctor.id, wib(8, 9))
    assert isinstance(again, Booked) and again.replayed
    assert again.booking.id == first.id
    assert sync_store.bookings.count_documents({}) == 1
    other = await service.book(patients[1].id, doctor.id, wib(8, 9))
    assert isinstance(other, SlotTaken)
